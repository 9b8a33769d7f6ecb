// The gateway as benchmarked: one provider (the bench upstream), one daily package, default
// durability (group-committed journal, checkpoints every 5 s) and default logging (one info line
// per request through the gateway's own log destination, here a file in the data dir as with
// `npm start > file`; QG_BENCH_LOG_LEVEL overrides the level). argv[2] = upstream port,
// argv[3] = data dir, argv[4] (optional) = a PostgreSQL URL: the shared ledger backend.
// QG_BENCH_OTLP_ENDPOINT: trace export on, to that OTLP/HTTP endpoint (bench/servers/otlp-sink.js).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { logDestination } = require('../../host-node/lib/log-destination');
const { normalise } = require('../../host-node/lib/config');
const { startGateway } = require('../../host-node/lib/serve');

(async () => {
  const [port, dir, pgUrl] = process.argv.slice(2);
  const metadata = path.join(dir, 'metadata');
  fs.mkdirSync(path.join(metadata, 'packages'), { recursive: true });
  fs.writeFileSync(path.join(metadata, 'packages', 'catalog.v1.json'), JSON.stringify({ schema_version: 1,
    packages: { up: { provider_id: 'up', package_type: 'daily', limit_per_day: 1e9, models: ['*'] } } }));
  const config = normalise({
    server: { port: 0 }, metadata_dir: metadata, log_level: process.env.QG_BENCH_LOG_LEVEL || 'info',
    providers: [{ name: 'up', base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-bench', models: ['*'] }],
    ledger: { dir: path.join(dir, 'ledger'), ...(pgUrl ? { backend: 'postgres', postgres: { url: pgUrl } } : {}),
      ...(process.env.QG_BENCH_LEDGER_INLINE ? { segment_worker: false } : {}) },
    ...(process.env.QG_BENCH_OTLP_ENDPOINT ? { telemetry: { otlp_endpoint: process.env.QG_BENCH_OTLP_ENDPOINT } } : {}),
  }, path.join(dir, 'config.yaml'));
  // The event loop's delay (perf_hooks) and the ledger's checkpoint count, read and reset by the
  // bench between cells: GET /bench/stats.
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  // The longest garbage-collection pause on this thread between two reads: beside the loop delay,
  // it tells a collection's stall from the ledger's (ledger_hold_ms) and from queueing.
  const { PerformanceObserver } = require('node:perf_hooks');
  let gcMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  }).observe({ entryTypes: ['gc'] });
  const gw = await startGateway({ config, logStream: logDestination(path.join(dir, 'gateway.log')), extraRoutes: (app) => {
    app.get('/bench/stats', (req, res) => {
      const h = gw.ledger.health();
      const hold = gw.ledger.takeLoopHold ? gw.ledger.takeLoopHold() : null;
      res.json({ eld_p99_ms: eld.percentile(99) / 1e6, eld_max_ms: eld.max / 1e6, checkpoints: h.checkpoints ?? null,
        last_checkpoint_ms: h.last_checkpoint_ms ?? null, ledger_hold_ms: hold ? Math.max(hold.write_max_ms, hold.checkpoint_max_ms) : null,
        journal_write_max_ms: hold ? hold.write_max_ms : null, seal_max_ms: hold ? hold.checkpoint_max_ms : null, gc_max_ms: gcMaxMs });
      eld.reset();
      gcMaxMs = 0;
    });
  } });
  process.stdout.write(`READY ${gw.port}\n`);
  process.on('SIGINT', async () => {
    await gw.close();
    process.exit(0);
  });
})();
// SIGUSR2: memory in MB on stderr, with the engine's wasm memory and SQLite's own allocations.
process.on('SIGUSR2', async () => {
  const mb = (v) => Math.round(v / 1048576);
  const m = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, mb(v)]));
  const core = await require('../../host-node/lib/core').loadCore();
  const SQL = await require('sql.js')();
  Object.assign(m, { engineWasm: mb(core.HEAP8.length), sqlite: mb(Number(SQL._sqlite3_memory_used())) });
  process.stderr.write(`MEM ${JSON.stringify(m)}\n`);
});
