// Starts the gateway: configuration, the wasm engine seeded from the durable ledger (embedded, or
// shared through PostgreSQL with the fleet: shared/fleet.js), the HTTP
// server, periodic checkpoints, and (with no provider keys) demo mode. Returns a handle to stop it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const pino = require('pino');
const { loadCore } = require('./core');
const { LedgerStore } = require('./ledger-store');
const { joinFleet, publishingStore } = require('./shared/fleet');
const { Proxy } = require('./proxy');
const { createApp } = require('./gateway');
const { createMetrics } = require('./metrics');
const { Redactor, REDACT_PATHS, configSecrets } = require('./redact');
const { startDemo } = require('./demo/demo');
const { logDestination } = require('./log-destination');
const { isLoopback } = require('./config');
const { CatalogStore } = require('./catalog-store');
const { BalancePoller } = require('./poller/poller');
const { catalogValidator, recordUsageEvent } = require('./engine-session');
const { loadAccountSecret, loadSharedAccountSecret, FingerprintCache } = require('./accounts');
const { ReadingsStore } = require('./readings');
const { startTelemetry } = require('./telemetry');
const { AlertService, FileAlertState, PgAlertState } = require('./alerts/alert-service');
const { AlertDelivery } = require('./alerts/alert-delivery');

const CHECKPOINT_EVENTS = 10000;  // events waiting that bring the next checkpoint forward

function catalogPath(metadataDir) {
  return path.join(metadataDir, 'packages', 'catalog.v1.json');
}

// options: { config (normalised), demo (bool), dataDir, logStream, now, extraRoutes, alertIntervalMs }
// alertIntervalMs: how often alerts are evaluated (tests call alerts.tick() themselves).
async function startGateway({ config, demo = false, dataDir, logStream, now = Date.now, extraRoutes, alertIntervalMs = 15000 }) {
  const logTo = logStream || logDestination(1);
  const logBase = { service: 'quotagate', ...(demo ? { demo: true } : {}) };
  const log = pino({ level: config.log_level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: logBase }, logTo);
  // The per-request line has a fixed shape built by the proxy (no headers, no keys), so it skips
  // pino's redaction pass, which cost ~5 us per line; same stream, level and base fields.
  const requestLog = pino({ level: config.log_level, base: logBase }, logTo);
  let demoHandle = null;
  let providers = config.providers;
  let metadataDir = config.metadata_dir;
  let ledgerDir = config.ledger.dir;
  if (demo) {
    demoHandle = await startDemo({ dataDir });
    providers = demoHandle.providers;
    metadataDir = demoHandle.metadataDir;
    ledgerDir = demoHandle.ledgerDir;
  }
  const pgSettings = config.ledger.backend === 'postgres' ? config.ledger.postgres : null;
  const redactor = new Redactor(configSecrets({ ...config, providers }));

  const core = await loadCore();
  const engine = new core.Engine();
  // Accounts: auth: key accounts by their configured name, auth: client ones by fingerprint (the
  // name is the operator's label); callers' other credentials join as they arrive.
  const engineConfig = { ...config.routing.engine, providers: providers.map((p) => ({ id: p.name, models: p.models,
    ...(p.auth === 'client' ? { auth: 'client' } : {}), ...(p.overage === 'avoid' ? { overage: 'avoid' } : {}),
    ...((p.accounts || []).length ? { accounts: p.accounts.map((a) => (p.auth === 'client' ? { id: a.fingerprint, name: a.name } : { id: a.name })) } : {}) })) };
  const configError = engine.configure(JSON.stringify(engineConfig));
  if (configError) throw new Error(`${config.file || 'config'}: routing: ${configError}`);

  // The catalog file has one owner (CatalogStore): loads, watches, merges edits, writes atomically.
  const catalogFile = catalogPath(metadataDir);
  const validate = catalogValidator(core, catalogFile);
  let onCatalogChange = () => {};  // the poller's refresh(), once it exists
  const apply = (text) => {
    const r = engine.loadCatalog(text, catalogFile);
    for (const s of JSON.parse(r.skippedJson)) log.warn({ package: s.package_id, reason: s.reason }, 'catalog entry skipped');
    setImmediate(() => onCatalogChange());  // after the store has taken the new document
  };
  const store = new CatalogStore({ file: catalogFile, validate, apply, log });
  const loadError = store.load();
  if (loadError) {
    log.error({ error: loadError }, 'catalog not loaded; it is watched and will load once valid');
  }
  store.watch(1000);
  const catalogError = () => store.error && (fs.existsSync(catalogFile) ? store.error
    : `${catalogFile}: not found; quotas are unknown until a catalog is there (see docs/catalog.md)`);

  // The open SQLite segment lives in a worker thread: a checkpoint never holds this event loop.
  const ledgerOptions = { dir: ledgerDir, retentionDays: config.ledger.retention_days, fsync: config.ledger.fsync, log, worker: config.ledger.segment_worker !== false };
  // The PostgreSQL backend (and the pg driver) is loaded only when configured.
  const ledger = pgSettings ? new (require('./shared/postgres-ledger').PostgresLedger)({ ...ledgerOptions, postgres: pgSettings, now, version: require('../../package.json').version })
    : new LedgerStore(ledgerOptions);
  const t0 = Date.now();
  const recordEvent = (e) => recordUsageEvent(engine, e);
  // The embedded ledger seeds the engine with per-second sums (its own resolution): one row per
  // busy second instead of one per request.
  const events = await ledger.open(now(), { perSecond: true });
  let seeded = 0;
  for (const e of events) {
    recordEvent(e);
    seeded += e.count > 1 ? e.count : 1;
  }
  log.info({ events: seeded, rows: events.length, ms: Date.now() - t0, dir: ledgerDir, backend: ledger.backend }, 'ledger loaded');

  // What providers last said (windows, overage, cooldowns) per account, from before the restart.
  const readings = new ReadingsStore({ dir: ledgerDir, log, now });
  const restored = readings.load();
  for (const r of restored) engine.observe(r.provider, r.account, r.model, r.status, r.headers, r.body, -1, r.ts);
  if (restored.length) log.info({ readings: restored.length }, 'provider readings restored');

  // Callers' own credentials become accounts by fingerprint: one secret per data dir (per fleet
  // with PostgreSQL, so that every instance names a credential alike).
  let fingerprints = null;
  if (providers.some((p) => p.auth === 'client')) {
    let secret = null;
    if (pgSettings) {
      try {
        secret = await loadSharedAccountSecret(ledger.pool);
      } catch (err) {
        log.warn({ err: err.message }, 'the fleet account secret is unavailable; this instance uses its own (fingerprints differ from the others\' until restart)');
      }
    }
    fingerprints = new FingerprintCache(secret || loadAccountSecret(ledgerDir));
  }

  const metrics = createMetrics({ quotasDocument: () => app.locals.quotas(), ledgerHealth: () => ledger.health() });
  // Trace export (telemetry.otlp_endpoint): null when off, and then no OpenTelemetry SDK is loaded.
  const telemetry = startTelemetry({ settings: config.telemetry, providers, redactor, log, version: require('../../package.json').version });
  const proxy = new Proxy({ engine, providers, ledger, metrics, log, requestLog, redactor, maxAttempts: config.routing.max_attempts, now,
    maxSseEventBytes: config.server.max_sse_event_bytes, fingerprints, clientKeys: config.server.client_keys,
    modelGroups: Object.keys(config.routing.engine.model_groups || {}), tracer: telemetry ? telemetry.tracer : null });
  proxy.readings = readings;
  const poller = new BalancePoller({ settings: config.quota_poll, store: publishingStore(store, ledger, now), providers, log, redact: (t) => redactor.text(t) });
  redactor.add(...poller.knownSecrets());
  onCatalogChange = () => poller.refresh();
  const app = createApp({ engine, proxy, config: { ...config, providers }, metrics, log, redactor, demo, now, ledgerHealth: () => ledger.health(), extraRoutes: (a, ctx) => {
    a.locals.catalogError = catalogError;
    a.locals.catalogModels = () => Object.values((store.doc && store.doc.packages) || {})
      .filter((p) => p && typeof p.provider_id === 'string' && Array.isArray(p.models)).map((p) => ({ provider_id: p.provider_id, models: p.models }));
    a.locals.packageExtras = (id) => poller.statusFor(id);
    if (extraRoutes) extraRoutes(a, ctx);
  } });
  const fleet = joinFleet({ ledger, engine, store, poller, log, recordEvent, electionIntervalMs: pgSettings ? pgSettings.election_interval_ms : 0 });

  // Alerts: evaluated off the request path; with PostgreSQL only the elected instance sends. Each
  // target's counters exist from the start (at 0), so that a rule on increase() sees the first one.
  for (const t of config.alerts || []) {
    for (const event of t.on) for (const kind of ['sent', 'failed', 'dropped']) metrics.alerts[kind].inc({ target: t.name, event }, 0);
  }
  const alerts = new AlertService({
    targets: config.alerts || [], quotas: () => app.locals.quotas(), isLeader: () => !fleet.election || fleet.election.leader,
    store: pgSettings ? new PgAlertState(ledger.pool) : new FileAlertState(ledgerDir, log),
    delivery: new AlertDelivery({ log, redactor, metrics: metrics.alerts }), log, redactor, now,
    intervalMs: alertIntervalMs,
  });

  // Checkpoints every checkpoint_interval_s, and sooner once CHECKPOINT_EVENTS are waiting: under
  // load that bounds both the events held in memory and how long one checkpoint holds the loop.
  let checkpointQueued = false;
  const runCheckpoint = () => {
    checkpointQueued = false;
    if (!ledger.waiting) return;
    ledger.checkpointAsync().then((ms) => {
      if (ms > 2000) log.warn({ ms }, 'slow ledger checkpoint (in the segment worker)');
    }, (err) => {
      log.error({ err: err.message }, 'ledger checkpoint failed; events stay in the journal');
    });
  };
  ledger.onBacklog(CHECKPOINT_EVENTS, () => {
    if (checkpointQueued) return;
    checkpointQueued = true;
    setImmediate(runCheckpoint);  // after this turn's journal write, outside any request
  });
  const checkpointTimer = setInterval(runCheckpoint, config.ledger.checkpoint_interval_s * 1000);
  checkpointTimer.unref();
  const pruneTimer = setInterval(() => ledger.prune(now()), 6 * 3600 * 1000);
  pruneTimer.unref();

  const http = require('node:http');
  const server = http.createServer({
    connectionsCheckingInterval: Math.min(1000, config.server.headers_timeout_ms),  // how often slow clients are checked
    headersTimeout: config.server.headers_timeout_ms,
    requestTimeout: config.server.request_timeout_ms,
  }, (req, res) => app.locals.fastPath(req, res) || app(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  server.keepAliveTimeout = 65000;
  const address = server.address();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url, providers: providers.length, loopback: isLoopback(config.server.host) }, 'quotagate listening');
  // A wildcard bind has no address anyone can open: alerts link the machine's name instead, and
  // the operator is told to set dashboard_url (the address people reach, behind a proxy say).
  const wildcard = ['0.0.0.0', '::', ''].includes(address.address);
  alerts.dashboardUrl = `http://${wildcard ? require('node:os').hostname() : host}:${address.port}/dashboard/quotas`;
  if (wildcard && (config.alerts || []).some((t) => !t.dashboard_url)) {
    log.warn({ link: alerts.dashboardUrl }, 'alerts link the dashboard by this machine\'s name (bound to a wildcard address); set alerts[].dashboard_url to the address people open');
  }
  alerts.start();

  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    clearInterval(checkpointTimer);
    clearInterval(pruneTimer);
    await alerts.stop();
    await fleet.stop();
    store.close();
    await readings.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
    if (telemetry) await telemetry.shutdown();  // the last spans are exported (bounded wait)
    await ledger.close();
    engine.delete();
    if (demoHandle) await demoHandle.close();
  }
  return { url, port: address.port, server, engine, ledger, log, close, catalogError, providers, demo, store, poller, election: fleet.election, alerts, telemetry };
}

module.exports = { startGateway };
