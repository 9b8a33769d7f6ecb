// Balance poller: keeps credit packages' used/total true to the providers' balance APIs.
// Each api_poll package has its own schedule (interval_seconds, or fast_lane_interval_seconds when
// it expires within 14 days), with jitter. A poll never blocks requests and never throws: a missing
// key warns once and skips, any failure keeps the stale value, and three failures in a row drop
// confidence to low. Results go through the CatalogStore, the catalog file's single writer.
'use strict';
const undici = require('undici');
const { READERS, PollError } = require('./providers');
const { loadCore } = require('../core');

const DAY = 86400000;

async function undiciGet(url, { headers, timeoutMs }) {
  const res = await undici.request(url, { method: 'GET', headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

function pollSettings(raw = {}) {
  const n = (v, d) => (v === undefined || v === null ? d : Number(v));
  return {
    enabled: raw.enabled === true,
    on_startup: raw.on_startup !== false,
    interval_s: n(raw.interval_seconds, 3600),
    fast_lane_s: n(raw.fast_lane_interval_seconds, 900),
    timeout_s: n(raw.timeout_seconds, 20),
    providers: raw.providers || {},
    // "FROM/TO" -> how many TO one FROM is worth ("CNY/USD": 0.14); balances are converted only
    // with a rate the user gave.
    exchange_rates: raw.exchange_rates || {},
  };
}

class BalancePoller {
  // store: CatalogStore; providers: gateway provider configs (for keys); redact: text -> text.
  constructor({ settings, store, providers = [], log, redact = (t) => t, http = undiciGet, env = process.env, now = Date.now, random = Math.random }) {
    Object.assign(this, { settings: pollSettings(settings), store, log, redact, http, env, now, random });
    this.providerKeys = new Map(providers.map((p) => [p.name, p.api_key]));
    this.state = new Map();  // package id -> { failures, lastPolledAt, lastError, endpoint, timer, warned }
    this.stopped = false;
  }

  // api_poll credit packages that a balance reader knows.
  targets() {
    const doc = this.store.doc;
    if (!doc || !doc.packages) return [];
    const out = [];
    for (const [id, p] of Object.entries(doc.packages)) {
      if (!p || p.source !== 'api_poll' || (p.package_type && p.package_type !== 'credits')) continue;
      const reader = typeof p.poll_provider === 'string' ? p.poll_provider : p.provider_id;
      if (READERS[reader]) out.push({ id, pkg: p, reader });
    }
    return out;
  }

  intervalMs(pkg) {
    const expires = pkg.expiry_date ? Date.parse(`${String(pkg.expiry_date).slice(0, 10)}T23:59:59Z`) : NaN;
    const fast = Number.isFinite(expires) && expires - this.now() <= 14 * DAY;
    const base = (fast ? this.settings.fast_lane_s : this.settings.interval_s) * 1000;
    return Math.round(base * (0.9 + 0.2 * this.random()));  // +-10 % jitter so packages spread out
  }

  keyFor(reader) {
    const cfg = this.settings.providers[reader] || {};
    const spec = READERS[reader];
    return {
      key: cfg.api_key || this.providerKeys.get(reader) || this.env[spec.keyEnv] || '',
      managementKey: cfg.management_key || (spec.managementKeyEnv ? this.env[spec.managementKeyEnv] : '') || '',
      baseUrl: (cfg.base_url || spec.baseUrl).replace(/\/+$/, ''),
      endpoints: cfg.endpoints,
      keyEnv: spec.keyEnv,
    };
  }

  // Every key this poller may send (config, provider keys, environment), for the redactor.
  knownSecrets() {
    const out = [];
    for (const reader of Object.keys(READERS)) {
      const k = this.keyFor(reader);
      out.push(k.key, k.managementKey);
    }
    return out.filter(Boolean);
  }

  // start() and stop() may alternate (the shared ledger's poller election hands polling around).
  start() {
    this.stopped = false;
    this.running = true;
    if (!this.settings.enabled) return;
    for (const t of this.targets()) this.schedule(t.id, this.settings.on_startup ? 0 : this.intervalMs(t.pkg));
  }

  schedule(id, delayMs) {
    const s = this.stateOf(id);
    clearTimeout(s.timer);
    if (this.stopped) return;
    s.nextAt = this.now() + delayMs;
    s.timer = setTimeout(async () => {
      s.timer = null;
      await this.pollPackage(id);
      const t = this.targets().find((x) => x.id === id);
      if (t) this.schedule(id, this.intervalMs(t.pkg));
    }, delayMs);
    s.timer.unref();
  }

  stateOf(id) {
    if (!this.state.has(id)) this.state.set(id, { failures: 0, lastPolledAt: null, lastError: null, endpoint: null, timer: null, warned: false });
    return this.state.get(id);
  }

  // Polls one package now. Resolves to { package_id, before, after, error }; never rejects.
  async pollPackage(id) {
    const s = this.stateOf(id);
    const t = this.targets().find((x) => x.id === id);
    if (!t) return { package_id: id, error: 'not an api_poll credit package with a known balance API' };
    const before = { used_credits: t.pkg.used_credits ?? null, total_credits: t.pkg.total_credits ?? null };
    const k = this.keyFor(t.reader);
    if (!k.key && !k.managementKey) {
      s.lastError = `missing key: set ${k.keyEnv} (or quota_poll.providers.${t.reader}.api_key)`;
      if (!s.warned) this.log?.warn({ package: id, variable: k.keyEnv }, `balance poll skipped: ${s.lastError}`);
      s.warned = true;
      return { package_id: id, before, after: before, error: s.lastError };
    }
    s.lastPolledAt = new Date(this.now()).toISOString();
    try {
      const r = await READERS[t.reader].read({ http: this.http, baseUrl: k.baseUrl, key: k.key, managementKey: k.managementKey,
        endpoints: k.endpoints, pkg: t.pkg, timeoutMs: this.settings.timeout_s * 1000, exchangeRates: this.settings.exchange_rates });
      const fields = this.fieldsFrom(await loadCore(), t.pkg, r);
      const err = await this.store.update({ [id]: fields });
      if (err) throw new PollError(`catalog write: ${err}`);
      s.failures = 0;
      s.lastError = null;
      if (r.warning && r.warning !== s.warning) this.log?.warn({ package: id, warning: r.warning }, 'balance poll warning');
      s.warning = r.warning || null;
      s.endpoint = r.endpoint;
      return { package_id: id, before, after: { used_credits: fields.used_credits, total_credits: fields.total_credits }, endpoint: r.endpoint, error: null };
    } catch (err) {
      // The count of failures in a row lives in the entry's _poll bookkeeping, so that it survives
      // restarts and `quotagate poll --once` runs (three in a row set confidence low).
      const prev = t.pkg._poll && typeof t.pkg._poll === 'object' ? t.pkg._poll : {};
      s.failures = (Number.isInteger(prev.failures) && prev.failures >= 0 ? prev.failures : 0) + 1;
      s.lastError = this.redact(err instanceof PollError ? err.message : `${err.code || err.name}: ${err.message}`);
      this.log?.warn({ package: id, failures: s.failures, error: s.lastError }, 'balance poll failed; keeping the last value');
      await this.store.update({ [id]: { _poll: { ...prev, failures: s.failures }, ...(s.failures >= 3 ? { confidence: 'low' } : {}) } });
      return { package_id: id, before, after: before, error: s.lastError };
    }
  }

  // The used/total arithmetic is the core's (apply_balance): a rise in balance is a top-up that
  // adds to the total, so used stays continuous; total = max(catalog total, peak since the top-up).
  fieldsFrom(core, pkg, r) {
    const prev = pkg._poll && typeof pkg._poll === 'object' ? pkg._poll : {};
    const memory = { catalog_total: Number(pkg.total_credits) || 0, catalog_used: Number(pkg.used_credits) || 0,
      ...(typeof prev.last_balance === 'number' ? { last_balance: prev.last_balance } : {}),
      ...(typeof prev.peak_balance === 'number' ? { peak_balance: prev.peak_balance } : {}) };
    const reading = {};
    for (const k of ['remaining', 'total', 'used']) if (typeof r[k] === 'number' && Number.isFinite(r[k])) reading[k] = r[k];
    const u = JSON.parse(core.applyBalanceJson(JSON.stringify(memory), JSON.stringify(reading)));
    if (u.error) throw new PollError(u.error);
    const poll = { endpoint: r.endpoint, polled_at: new Date(this.now()).toISOString() };
    if (u.last_balance !== null) poll.last_balance = u.last_balance;
    if (u.peak_balance !== null) poll.peak_balance = u.peak_balance;
    if (u.topup !== null) poll.last_topup = { at: poll.polled_at, amount: u.topup };
    else if (prev.last_topup) poll.last_topup = prev.last_topup;
    return { used_credits: u.used_credits, total_credits: u.total_credits, last_updated: poll.polled_at, confidence: 'high', _poll: poll };
  }

  async pollOnce() {
    return Promise.all(this.targets().map((t) => this.pollPackage(t.id)));
  }

  // Per-package poll facts for /api/quotas.
  statusFor(id) {
    const s = this.state.get(id);
    if (!s) return null;
    return { last_polled_at: s.lastPolledAt, last_poll_error: s.lastError, poll_endpoint: s.endpoint, ...(s.warning ? { poll_warning: s.warning } : {}) };
  }

  // Schedules the packages that became poll targets after start(): a catalog that turned valid, an
  // api_poll package an operator added. Called whenever the catalog in force changes.
  refresh() {
    if (!this.running || this.stopped || !this.settings.enabled) return;
    for (const t of this.targets()) {
      if (!this.stateOf(t.id).timer) this.schedule(t.id, this.settings.on_startup ? 0 : this.intervalMs(t.pkg));
    }
  }

  stop() {
    this.stopped = true;
    this.running = false;
    for (const s of this.state.values()) {
      clearTimeout(s.timer);
      s.timer = null;
    }
  }
}

module.exports = { BalancePoller, pollSettings };
