// The wasm engine from Node: golden vectors byte-identical to the native build, errors as
// values at the binding boundary, and the plain-value hot path.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../lib/core');

const ROOT = path.resolve(__dirname, '..', '..');
const VECTORS = path.join(ROOT, 'tests', 'vectors');
const TEMPLATE = path.join(ROOT, 'docs/examples/metadata/packages/catalog.v1.json');
const NOW = Date.parse('2026-11-28T12:00:00Z');

test('golden vectors: wasm output is byte-identical to the native expected files', async () => {
  const core = await loadCore();
  const names = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));
  assert.ok(names.length >= 5, `expected at least 5 vectors, found ${names.length}`);
  for (const name of names) {
    const expected = fs.readFileSync(path.join(VECTORS, name.replace(/\.json$/, '.expected.json')), 'utf8');
    const actual = core.runVector(fs.readFileSync(path.join(VECTORS, name), 'utf8'));
    assert.equal(actual, expected, `${name}: wasm output differs from the native golden file`);
  }
});

test('loadCatalog returns errors as values and keeps the last good catalog', async () => {
  const core = await loadCore();
  const e = new core.Engine();
  try {
    assert.equal(e.loadCatalog(fs.readFileSync(TEMPLATE, 'utf8'), TEMPLATE).ok, true);
    const bad = e.loadCatalog('{"packages": {"a": ', '/etc/catalog.v1.json');
    assert.equal(bad.ok, false);
    assert.match(bad.error, /^\/etc\/catalog\.v1\.json:1:\d+: invalid JSON/);
    const doc = JSON.parse(e.quotasJson(NOW));
    assert.equal(doc.count, 11, 'the template is still loaded');
    const partial = e.loadCatalog(JSON.stringify({ packages: { ok: { provider_id: 'a', total_credits: 1 }, bad: { provider_id: 'b', package_type: 'weekly' } } }), 'c.json');
    assert.equal(partial.ok, true);
    assert.equal(partial.loaded, 1);
    assert.match(JSON.parse(partial.skippedJson)[0].reason, /\$\.packages\.bad\.package_type: expected one of/);
  } finally {
    e.delete();
  }
});

test('no C++ exception escapes: garbage in every entry point comes back as a value', async () => {
  const core = await loadCore();
  const e = new core.Engine();
  try {
    assert.match(e.configure('{{{'), /expected a JSON object/);
    assert.match(e.configure('{"weights": {"health": "lots"}}'), /weights\.health/);
    assert.equal(e.recordUsage(NaN, '', '', -5, Infinity, NaN, -1, ''), '');
    const obs = e.observe('x', '', '', 429, 'retry-after: soon\n\u0000\u00ff: \n', '{"error": [', -1, NOW);
    assert.equal(obs.error, '');
    assert.equal(obs.retryable, true);
    const r = e.route('no-such-model', NOW, '', '');
    assert.equal(r.ok, false);
    assert.match(r.reason, /no provider serves model "no-such-model"/);
    assert.equal(JSON.parse(core.runVector('not json')).error.startsWith('vector:'), true);
    assert.equal(JSON.parse(core.parseResponseJson('\u0000garbage\n\n{', NOW)).dialect, 'none');
    assert.equal(core.parseIsoMs('yesterday'), '');
  } finally {
    e.delete();
  }
});

test('hot path: observe, recordUsage and route take plain values and move the state', async () => {
  const core = await loadCore();
  const e = new core.Engine();
  try {
    e.loadCatalog(JSON.stringify({
      packages: {
        a: { provider_id: 'a', package_type: 'daily', limit_per_day: 2, models: ['m'] },
        b: { provider_id: 'b', package_type: 'daily', limit_per_day: 100, models: ['m'] },
      },
    }), 'c.json');
    assert.equal(e.route('m', NOW, '', '').provider, 'a');
    e.recordUsage(NOW - 1000, 'a', 'm', 200, 0, 10, 10, '');
    e.recordUsage(NOW - 500, 'a', 'm', 200, 0, 10, 10, '');
    const r = e.route('m', NOW, '', '');
    assert.equal(r.provider, 'b', 'a is exhausted after two requests');
    const obs = e.observe('b', '', 'm', 429, 'retry-after: 30', '', 120, NOW);
    assert.equal(obs.cooldownUntil, NOW + 30000);
    const all = e.route('m', NOW + 1000, '', '');
    assert.equal(e.route('m', NOW, 'b', '').provider, 'a', 'skipped providers are not candidates');
    assert.equal(all.allExcluded, true);
    assert.equal(all.retryAt, NOW + 30000, 'b returns first: the cooldown ends before midnight');
  } finally {
    e.delete();
  }
});
