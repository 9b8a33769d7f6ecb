// Benchmarks the wasm engine from Node, the way the gateway calls it: header parse, statuses of
// 11 and 1,000 packages, and one route decision (p50 and p99 per call, in microseconds).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../host-node/lib/core');

const NOW = Date.parse('2026-11-28T12:00:00Z');
const OPENAI_HEADERS = [
  'x-ratelimit-limit-requests: 60', 'x-ratelimit-limit-tokens: 150000', 'x-ratelimit-remaining-requests: 59',
  'x-ratelimit-remaining-tokens: 149984', 'x-ratelimit-reset-requests: 1s', 'x-ratelimit-reset-tokens: 6m0s',
  'content-type: application/json', 'date: Sat, 28 Nov 2026 12:00:00 GMT',
].join('\n');

function syntheticCatalog(n) {
  const packages = {};
  for (let i = 0; i < n; i++) {
    const provider = `p${i}`;
    if (i % 3 === 0) packages[`c${i}`] = { provider_id: provider, total_credits: 25, used_credits: 3, expiry_date: '2026-12-10', models: ['*'] };
    else if (i % 3 === 1) packages[`w${i}`] = { provider_id: provider, package_type: 'rolling_window', window_hours: 5, limit_per_window: 45, models: ['*'] };
    else packages[`d${i}`] = { provider_id: provider, package_type: 'daily', limit_per_day: 1000, reset_timezone: 'America/Los_Angeles', models: ['*'] };
  }
  return JSON.stringify({ schema_version: 1, packages });
}

function engineWith(core, n) {
  const e = new core.Engine();
  const text = n === 11
    ? fs.readFileSync(path.join(__dirname, '..', 'docs/examples/metadata/packages/catalog.v1.json'), 'utf8')
    : syntheticCatalog(n);
  const r = e.loadCatalog(text, 'bench');
  if (!r.ok) throw new Error(r.error);
  const providers = n === 11 ? ['kilo', 'deepseek', 'claude-pro', 'gemini', 'qwen'] : null;
  for (let i = 0; i < 20000; i++) {
    const provider = providers ? providers[i % providers.length] : `p${i % n}`;
    e.recordUsage(NOW - 7 * 86400000 + i * 30000, provider, 'm', 200, 0.01, 100, 50, '');
  }
  return e;
}

function measure(fn, iterations) {
  const samples = new Float64Array(iterations);
  for (let i = 0; i < Math.min(2000, iterations); i++) fn(i);  // warm-up
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return { p50: samples[Math.floor(iterations * 0.5)], p99: samples[Math.floor(iterations * 0.99)] };
}

async function runWasmBench() {
  const core = await loadCore();
  const rows = [];
  const parse = measure((i) => core.parseResponseJson(`HTTP/1.1 200 OK\n${OPENAI_HEADERS}\n`, NOW + i), 20000);
  rows.push({ name: 'header parse -> JSON (wasm)', ...parse });
  const observer = engineWith(core, 11);
  const observe = measure((i) => observer.observe('deepseek', '', 'm', 200, OPENAI_HEADERS, '', 120, NOW + i), 20000);
  rows.push({ name: 'observe response (wasm)', ...observe });
  for (const n of [11, 1000]) {
    const e = engineWith(core, n);
    const status = measure((i) => e.quotasJson(NOW + i * 1000), n === 11 ? 5000 : 300);
    rows.push({ name: `statuses of ${n} packages as JSON (wasm)`, ...status });
    const route = measure((i) => e.route('auto', NOW + i, '', ''), n === 11 ? 50000 : 5000);
    rows.push({ name: `route auto, ${n} packages (wasm)`, ...route });
    e.delete();
  }
  observer.delete();
  return rows;
}

module.exports = { runWasmBench };

if (require.main === module) {
  runWasmBench().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(42)} p50 ${r.p50.toFixed(2).padStart(9)} us   p99 ${r.p99.toFixed(2).padStart(9)} us`);
  });
}
