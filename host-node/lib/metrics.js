// Prometheus metrics (prom-client) on a registry of our own. Package gauges are read from the
// engine's /api/quotas document at scrape time: no quota maths here.
'use strict';
const client = require('prom-client');

const ALERTS = ['exhausted', 'use_or_lose', 'expired', 'topup', 'watch', 'ok'];

function createMetrics({ quotasDocument, ledgerHealth = () => ({ degraded: false }) }) {
  const registry = new client.Registry();
  const requests = new client.Counter({ name: 'quotagate_requests_total', help: 'Client requests by endpoint, provider and final status', labelNames: ['endpoint', 'provider', 'status'], registers: [registry] });
  const upstream = new client.Histogram({ name: 'quotagate_upstream_latency_seconds', help: 'Time to the upstream response headers', labelNames: ['provider', 'status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] });
  const failovers = new client.Counter({ name: 'quotagate_failovers_total', help: 'Attempts abandoned for the next candidate', labelNames: ['provider', 'reason'], registers: [registry] });
  const invalidUsage = new client.Counter({ name: 'quotagate_usage_invalid_total', help: 'Upstream answers whose usage numbers failed validation (recorded as unknown: 0)', labelNames: ['provider'], registers: [registry] });
  new client.Gauge({
    name: 'quotagate_package_remaining', help: 'Remaining capacity per package, in the package unit', labelNames: ['package', 'provider', 'unit', 'account'], registers: [registry],
    collect() {
      this.reset();
      for (const p of quotasDocument().packages) this.set({ package: p.package_id, provider: p.provider_id, unit: p.unit, account: p.account || '' }, p.remaining);
    },
  });
  new client.Gauge({
    name: 'quotagate_package_remaining_ratio', help: 'Remaining share of capacity per package (0..1)', labelNames: ['package', 'provider', 'account'], registers: [registry],
    collect() {
      this.reset();
      for (const p of quotasDocument().packages) this.set({ package: p.package_id, provider: p.provider_id, account: p.account || '' }, p.remaining_ratio);
    },
  });
  new client.Gauge({
    name: 'quotagate_package_alert', help: '1 for the alert each package is in', labelNames: ['package', 'alert', 'account'], registers: [registry],
    collect() {
      this.reset();
      // account: the account's name, else its fingerprint ('' for a provider's only key); never a credential.
      for (const p of quotasDocument().packages) for (const a of ALERTS) this.set({ package: p.package_id, alert: a, account: p.account || '' }, p.alert === a ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'quotagate_provider_cooldown', help: '1 while a provider is cooling down after a 429', labelNames: ['provider'], registers: [registry],
    collect() {
      this.reset();
      for (const provider of Object.keys(quotasDocument().cooldowns || {})) this.set({ provider }, 1);
    },
  });
  new client.Gauge({
    name: 'quotagate_ledger_degraded', help: '1 while a ledger write fails (journal, checkpoint) or the shared ledger (PostgreSQL) is unreachable or stalled', registers: [registry],
    collect() { this.set(ledgerHealth().degraded ? 1 : 0); },
  });
  new client.Gauge({
    name: 'quotagate_ledger_unshipped_events', help: 'Usage events in the local outbox not yet in the shared ledger', registers: [registry],
    collect() { this.set(ledgerHealth().unshipped_events || 0); },
  });
  new client.Gauge({
    name: 'quotagate_poller_leader', help: '1 on the instance that holds the balance poller lock', registers: [registry],
    collect() { this.set(ledgerHealth().poller_leader ? 1 : 0); },
  });
  // Alerts (alerts/alert-delivery.js): labelled by target name and event, never by URL.
  const alerts = {
    sent: new client.Counter({ name: 'quotagate_alerts_sent_total', help: 'Alerts delivered to a webhook (2xx)', labelNames: ['target', 'event'], registers: [registry] }),
    failed: new client.Counter({ name: 'quotagate_alerts_failed_total', help: 'Alerts given up after their retries or on a permanent error', labelNames: ['target', 'event'], registers: [registry] }),
    dropped: new client.Counter({ name: 'quotagate_alerts_dropped_total', help: 'Alerts dropped from a full queue or at shutdown', labelNames: ['target', 'event'], registers: [registry] }),
    queued: new client.Gauge({ name: 'quotagate_alerts_queued', help: 'Alerts waiting to be sent', registers: [registry] }),
  };
  // The per-request series, by their label values: prom-client's labelled child of each is kept
  // (the label sets are bounded: endpoints, configured providers, HTTP statuses), so a request
  // costs a Map lookup, not a label validation and hash per call.
  const requestSeries = childCache(requests, (endpoint, provider, status) => ({ endpoint, provider, status }));
  const upstreamSeries = childCache(upstream, (provider, status) => ({ provider, status }));
  return {
    registry, requests, upstream, failovers, invalidUsage, alerts,
    // endpoint: 'chat' | 'messages' | 'responses'; status: the HTTP status the client got.
    countRequest(endpoint, provider, status) {
      requestSeries(endpoint, provider, String(status)).inc();
    },
    // status: the upstream's HTTP status, or 'error'; seconds: time to the response headers.
    observeUpstream(provider, status, seconds) {
      upstreamSeries(provider, String(status)).observe(seconds);
    },
  };
}

// (...label values) -> metric.labels(labels(...values)), created once per distinct value tuple.
function childCache(metric, labels) {
  const children = new Map();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = metric.labels(labels(...values));
      children.set(key, child);
    }
    return child;
  };
}

module.exports = { createMetrics };
