// npm run bench: one table of every benchmark, run in this process so the rows share a machine
// state. Native rows come from Google Benchmark (build/core_bench, JSON output).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { runWasmBench } = require('./wasm-bench');

const ROOT = path.resolve(__dirname, '..');

function nativeRows() {
  const r = spawnSync(path.join(ROOT, 'build', 'core_bench'), ['--benchmark_format=json', '--benchmark_min_time=0.3'], { encoding: 'utf8' });
  if (r.status !== 0) return [{ name: 'native core_bench', note: `failed: ${r.stderr.trim().split('\n').pop()}` }];
  const names = {
    'BM_HeaderParse': 'header parse (native)',
    'BM_Statuses/11': 'statuses of 11 packages (native)',
    'BM_Statuses/1000': 'statuses of 1000 packages (native)',
    'BM_Route/11': 'route auto, 11 packages (native)',
    'BM_Route/1000': 'route auto, 1000 packages (native)',
    'BM_ObserveAndRecord': 'observe a response + record its usage (native)',
    'BM_RouteExplained/11': 'route explained, 11 packages (native)',
    'BM_RouteExplained/1000': 'route explained, 1000 packages (native)',
    'BM_HindsightTemplate30d/iterations:3': 'hindsight, 30 days on the template (native; target <= 2 s)',
  };
  return JSON.parse(r.stdout).benchmarks.map((b) => {
    const us = b.time_unit === 'ns' ? b.real_time / 1000 : b.time_unit === 'ms' ? b.real_time * 1000 : b.real_time;
    return { name: names[b.name] || b.name, mean: us };
  });
}

const fmt = (v) => (v === undefined ? '' : v.toFixed(v < 10 ? 3 : 1));

async function main() {
  const rows = [...nativeRows(), ...(await runWasmBench())];
  const extra = [];
  if (!process.argv.includes('--core-only')) {
    extra.push(...await require('./ledger-bench').runLedgerBench().catch((err) => [{ name: 'ledger bench', note: `failed: ${err.message}` }]));
    extra.push(...await require('./browser-sim-bench').runBrowserSimBench().catch((err) => [{ name: 'simulator in Chromium', note: `failed: ${err.message}` }]));
    extra.push(...await require('./gateway-bench').runGatewayBench().catch((err) => [{ name: 'gateway bench', note: `failed: ${err.message}` }]));
    extra.push(...await require('./wrk-bench').runWrkBench().catch((err) => [{ name: 'wrk bench', note: `failed: ${err.message}` }]));
    extra.push(...await require('./translate-bench').runTranslateBench().catch((err) => [{ name: 'translation bench', note: `failed: ${err.message}` }]));
    extra.push(...await require('./pg-ingest-bench').runPgIngestBench().catch((err) => [{ name: 'postgres ingest bench', note: `failed: ${err.message}` }]));
  }
  console.log(`${'benchmark'.padEnd(46)}${'mean us'.padStart(12)}${'p50 us'.padStart(12)}${'p99 us'.padStart(12)}  note`);
  console.log('-'.repeat(90));
  for (const r of [...rows, ...extra]) {
    console.log(`${r.name.padEnd(46)}${fmt(r.mean).padStart(12)}${fmt(r.p50).padStart(12)}${fmt(r.p99).padStart(12)}  ${r.note || ''}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
