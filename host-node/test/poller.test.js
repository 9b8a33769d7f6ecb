// Balance poller and catalog store against local fake balance servers: DeepSeek used/total across
// a top-up, OpenRouter and Kilo shapes, failures keeping stale values, the fast lane, operator
// edits during a poll, invalid edits, concurrent writers and a crash mid-write.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { CatalogStore } = require('../lib/catalog-store');
const { BalancePoller } = require('../lib/poller/poller');
const { loadCore } = require('../lib/core');
const { catalogValidator } = require('../lib/engine-session');
const { tmpDir } = require('./helpers');

const DAY = 86400000;

// A balance server whose answer per path is set by the test: {status, body, delayMs}.
async function balanceServer() {
  const routes = {};
  const seen = [];
  const server = http.createServer(async (req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    const r = routes[req.url] || { status: 404, body: { error: 'not found' } };
    if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
    res.writeHead(r.status, { 'content-type': 'application/json' });
    res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, routes, seen, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

async function setup(packages) {
  const core = await loadCore();
  const dir = tmpDir('qg-poll-');
  const file = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(file, JSON.stringify({ schema_version: 1, _notes: ['kept'], x_operator: { keep: true }, packages }, null, 2));
  const engine = new core.Engine();
  const validate = catalogValidator(core, file);
  const logs = [];
  const log = { info: (o, m) => logs.push(['info', m, o]), warn: (o, m) => logs.push(['warn', m, o]), error: (o, m) => logs.push(['error', m, o]) };
  const store = new CatalogStore({ file, validate, apply: (t) => engine.loadCatalog(t, file), log });
  assert.equal(store.load(), null);
  return { core, engine, file, store, logs, log, read: () => JSON.parse(fs.readFileSync(file, 'utf8')) };
}

const deepseekPkg = (extra = {}) => ({ provider_id: 'deepseek', total_credits: 10, used_credits: 0, source: 'api_poll', currency: 'USD', ...extra });
const balance = (total, currency = 'USD') => ({ is_available: true, balance_infos: [{ currency: 'CNY', total_balance: '999.00', granted_balance: '0', topped_up_balance: '999.00' },
  { currency, total_balance: total, granted_balance: '1.00', topped_up_balance: '0.00' }] });

test('DeepSeek: used = total - balance (grants included), and a top-up adds to the total', async () => {
  const srv = await balanceServer();
  const t = await setup({ deepseek: deepseekPkg() });
  const poller = new BalancePoller({ settings: { enabled: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log });
  try {
    const step = async (bal) => {
      srv.routes['/user/balance'] = { status: 200, body: balance(bal) };
      const r = await poller.pollPackage('deepseek');
      assert.equal(r.error, null, r.error);
      const p = t.read().packages.deepseek;
      return [p.total_credits, p.used_credits];
    };
    assert.deepEqual(await step('7.50'), [10, 2.5]);
    assert.deepEqual(await step('6.00'), [10, 4]);
    assert.deepEqual(await step('26.00'), [30, 4], 'a $20 top-up: total grows, used unchanged');
    assert.deepEqual(await step('25.00'), [30, 5]);
    const doc = t.read();
    assert.equal(doc.packages.deepseek.confidence, 'high');
    assert.equal(doc.packages.deepseek._poll.last_topup.amount, 20);
    assert.deepEqual(doc._notes, ['kept']);
    assert.deepEqual(doc.x_operator, { keep: true });
    assert.ok(Date.parse(doc.generated_at) > Date.now() - 60000);
    assert.equal(srv.seen[0].auth, 'Bearer sk-ds-test');
    assert.equal(poller.statusFor('deepseek').poll_endpoint, `${srv.url}/user/balance`);
    const q = JSON.parse(t.engine.quotasJson(Date.now())).packages[0];
    assert.equal(q.used, 5, 'the engine serves the polled numbers');
  } finally {
    await srv.close();
  }
});

test('DeepSeek: the package currency picks the balance entry', async () => {
  const srv = await balanceServer();
  const t = await setup({ deepseek: deepseekPkg({ currency: 'CNY', total_credits: 1000 }) });
  const poller = new BalancePoller({ settings: { providers: { deepseek: { base_url: srv.url, api_key: 'k' } } }, store: t.store });
  srv.routes['/user/balance'] = { status: 200, body: balance('5.00') };
  await poller.pollPackage('deepseek');
  assert.equal(t.read().packages.deepseek.used_credits, 1);  // 1000 - 999 CNY
  await srv.close();
});

test('OpenRouter key and credits shapes; Kilo endpoints tried in order with the credit-blocks shape', async () => {
  const srv = await balanceServer();
  const t = await setup({
    or: { provider_id: 'openrouter', total_credits: 0, source: 'api_poll' },
    kilo: { provider_id: 'kilo', total_credits: 0, source: 'api_poll', expiry_date: '2030-01-01' },
  });
  const settings = { providers: { openrouter: { base_url: srv.url, api_key: 'k' }, kilo: { base_url: srv.url, api_key: 'k', endpoints: ['/api/profile/balance', '/api/user/credits'] } } };
  let poller = new BalancePoller({ settings, store: t.store });
  srv.routes['/api/v1/key'] = { status: 200, body: { data: { label: 'x', limit: 20, usage: 7.5, limit_remaining: 12.5, usage_daily: 1.25, is_free_tier: false } } };
  assert.equal((await poller.pollPackage('or')).error, null);
  assert.deepEqual([t.read().packages.or.total_credits, t.read().packages.or.used_credits], [20, 7.5]);
  srv.routes['/api/v1/credits'] = { status: 200, body: { data: { total_credits: 50, total_usage: 42.25 } } };
  poller = new BalancePoller({ settings: { providers: { ...settings.providers, openrouter: { base_url: srv.url, api_key: 'k', management_key: 'mgmt' } } }, store: t.store });
  await poller.pollPackage('or');
  assert.deepEqual([t.read().packages.or.total_credits, t.read().packages.or.used_credits], [50, 42.25]);

  srv.routes['/api/user/credits'] = { status: 200, body: { totalBalance_mUsd: 12500000, creditBlocks: [{ amount_mUsd: 20000000, balance_mUsd: 12500000 }] } };
  const r = await poller.pollPackage('kilo');
  assert.equal(r.error, null, r.error);
  assert.equal(r.endpoint, `${srv.url}/api/user/credits`, 'reports which endpoint answered');
  assert.deepEqual([t.read().packages.kilo.total_credits, t.read().packages.kilo.used_credits], [20, 7.5]);
  srv.routes['/api/profile/balance'] = { status: 200, body: { balance: 3 } };
  assert.equal((await poller.pollPackage('kilo')).endpoint, `${srv.url}/api/profile/balance`);
  await srv.close();
});

test('failures keep the stale value; three in a row drop confidence to low; a missing key names the variable', async () => {
  const srv = await balanceServer();
  const t = await setup({ deepseek: deepseekPkg({ used_credits: 3, confidence: 'high' }) });
  const poller = new BalancePoller({ settings: { timeout_seconds: 0.2, providers: { deepseek: { base_url: srv.url, api_key: 'k' } } }, store: t.store, log: t.log });
  const cases = [
    [{ status: 200, body: '{"balance_infos": [' }, /malformed JSON/],
    [{ status: 401, body: {} }, /HTTP 401 \(the key was refused\)/],
    [{ status: 500, body: {} }, /HTTP 500/],
    [{ status: 200, body: balance('1'), delayMs: 1000 }, /timeout|Timeout/i],
  ];
  for (const [i, [route, pattern]] of cases.entries()) {
    srv.routes['/user/balance'] = route;
    const r = await poller.pollPackage('deepseek');
    assert.match(r.error, pattern);
    assert.equal(t.read().packages.deepseek.used_credits, 3, 'stale value kept');
    assert.equal(t.read().packages.deepseek.confidence, i >= 2 ? 'low' : 'high');
    assert.match(poller.statusFor('deepseek').last_poll_error, pattern);
  }
  await srv.close();
  delete process.env.DEEPSEEK_API_KEY;
  const nokey = new BalancePoller({ settings: {}, store: t.store, log: t.log, env: {} });
  const r = await nokey.pollPackage('deepseek');
  assert.equal(r.error, 'missing key: set DEEPSEEK_API_KEY (or quota_poll.providers.deepseek.api_key)');
  await nokey.pollPackage('deepseek');
  assert.equal(t.logs.filter((l) => /balance poll skipped/.test(l[1])).length, 1, 'one warning, not one per poll');
});

test('fast lane: packages expiring within 14 days poll every fast_lane_interval_seconds, with jitter', async () => {
  const now = Date.now();
  const soon = new Date(now + 5 * DAY).toISOString().slice(0, 10);
  const later = new Date(now + 60 * DAY).toISOString().slice(0, 10);
  const t = await setup({ a: deepseekPkg({ expiry_date: soon }), b: deepseekPkg({ expiry_date: later }), c: deepseekPkg() });
  const settings = { interval_seconds: 1234, fast_lane_interval_seconds: 77 };
  for (const r of [0, 0.5, 0.999]) {
    const p = new BalancePoller({ settings, store: t.store, random: () => r });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => p.intervalMs(t.store.doc.packages[id]));
    assert.ok(a >= 77 * 900 && a <= 77 * 1100, `fast lane ${a}`);
    assert.ok(b >= 1234 * 900 && b <= 1234 * 1100, `normal ${b}`);
    assert.equal(b, c);
  }
  const jittered = new Set([0.1, 0.7].map((r) => new BalancePoller({ settings, store: t.store, random: () => r }).intervalMs(t.store.doc.packages.a)));
  assert.equal(jittered.size, 2, 'jitter spreads the schedules');
});

test('an operator edit during a poll: both the edit and the poll survive; an invalid edit is rejected and left alone', async () => {
  const srv = await balanceServer();
  const t = await setup({ deepseek: deepseekPkg({ notes: 'old' }), other: { provider_id: 'x', total_credits: 1 } });
  const poller = new BalancePoller({ settings: { providers: { deepseek: { base_url: srv.url, api_key: 'k' } } }, store: t.store, log: t.log });
  srv.routes['/user/balance'] = { status: 200, body: balance('8.00'), delayMs: 300 };
  const polling = poller.pollPackage('deepseek');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const edited = t.read();
  edited.packages.deepseek.notes = 'operator note';
  edited.packages.deepseek.expiry_date = '2030-06-30';
  edited.packages.other.total_credits = 99;
  fs.writeFileSync(t.file, JSON.stringify(edited, null, 2));
  assert.equal((await polling).error, null);
  let doc = t.read();
  assert.equal(doc.packages.deepseek.notes, 'operator note');
  assert.equal(doc.packages.deepseek.expiry_date, '2030-06-30');
  assert.equal(doc.packages.other.total_credits, 99);
  assert.equal(doc.packages.deepseek.used_credits, 2);

  // The operator changes a poller field: their value stands on reload (not overwritten by the stale poll).
  doc.packages.deepseek.used_credits = 9;
  fs.writeFileSync(t.file, JSON.stringify(doc, null, 2));
  t.store.reloadIfChanged();
  assert.equal(t.store.doc.packages.deepseek.used_credits, 9);

  const bad = '{ "packages": { "deepseek": { "provider_id": "deepseek", "total_credits": "lots" } ';
  fs.writeFileSync(t.file, bad);
  t.store.reloadIfChanged();
  assert.match(t.store.error, /invalid JSON/);
  assert.ok(t.logs.some((l) => l[0] === 'error' && /catalog edit rejected/.test(l[1])));
  assert.equal(JSON.parse(t.engine.quotasJson(Date.now())).count, 2, 'the last good catalog stays in force');
  await poller.pollPackage('deepseek');
  assert.equal(fs.readFileSync(t.file, 'utf8'), bad, 'the file stays as the operator wrote it');
  await srv.close();
});

test('concurrent header-capture and poll writes: no update is lost', async () => {
  const t = await setup({ a: deepseekPkg(), b: { provider_id: 'claude', package_type: 'rolling_window', window_hours: 5, limit_per_window: 45, source: 'header_capture' } });
  const writes = [];
  for (let i = 0; i < 40; i++) {
    writes.push(t.store.update({ a: { used_credits: i, [`x_poll_${i}`]: i } }));
    writes.push(t.store.update({ b: { last_updated: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), confidence: 'high', [`x_hdr_${i}`]: i } }));
  }
  assert.deepEqual(await Promise.all(writes), writes.map(() => null));
  const doc = t.read();
  for (let i = 0; i < 40; i++) {
    assert.equal(doc.packages.a[`x_poll_${i}`], i);
    assert.equal(doc.packages.b[`x_hdr_${i}`], i);
  }
  assert.equal(doc.packages.a.used_credits, 39);
  assert.equal(doc.packages.b.last_updated, '2026-01-01T00:39:00.000Z');
});

test('a crash mid-write never leaves a truncated or corrupt catalog', async () => {
  const dir = tmpDir('qg-crash-');
  const file = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(file, JSON.stringify({ schema_version: 1, packages: { deepseek: deepseekPkg() } }));
  for (let round = 0; round < 5; round++) {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'catalog-writer.js'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 30 + round * 37));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));  // throws if truncated
    assert.equal(doc.packages.deepseek.provider_id, 'deepseek');
  }
  const leftovers = fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  assert.ok(leftovers.length <= 5, 'at most one temp file per kill, never the catalog itself');
});

test('quotagate poll --once polls now and prints what changed', async () => {
  const srv = await balanceServer();
  srv.routes['/user/balance'] = { status: 200, body: balance('4.00') };
  const dir = tmpDir('qg-pollcli-');
  fs.mkdirSync(path.join(dir, 'metadata', 'packages'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'metadata', 'packages', 'catalog.v1.json'), JSON.stringify({ schema_version: 1, packages: { deepseek: deepseekPkg() } }));
  fs.writeFileSync(path.join(dir, 'config.yaml'), `metadata_dir: ${path.join(dir, 'metadata')}\nquota_poll:\n  providers:\n    deepseek:\n      base_url: ${srv.url}\n      api_key: sk-cli\n`);
  const bin = path.join(__dirname, '..', 'bin', 'quotagate');
  // Asynchronous spawn: the fake balance server lives in this process and must keep answering.
  const child = spawn(process.execPath, [bin, 'poll', '--once', '--config', path.join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  r.status = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /deepseek\s+used 0 -> 6\s+total 10 -> 10/);
  assert.doesNotMatch(r.stdout + r.stderr, /sk-cli/);
  await srv.close();
});

// Found by a probe: an api_poll package added while the gateway runs (or a catalog that turned
// valid after the start) was never polled until a restart. refresh() schedules it.
test('a package that becomes a poll target after start() is polled without a restart', async () => {
  const srv = await balanceServer();
  srv.routes['/user/balance'] = { status: 200, body: balance('7.00') };
  const t = await setup({ other: { provider_id: 'x', package_type: 'daily', limit_per_day: 5 } });
  const poller = new BalancePoller({ settings: { enabled: true, on_startup: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log });
  try {
    poller.start();
    const doc = t.read();
    doc.packages.deepseek = deepseekPkg();
    fs.writeFileSync(t.file, JSON.stringify(doc, null, 2));
    t.store.reloadIfChanged();
    poller.refresh();
    for (let i = 0; i < 100 && t.read().packages.deepseek.used_credits !== 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(t.read().packages.deepseek.used_credits, 3, 'polled: 10 - 7 used');
  } finally {
    poller.stop();
    await srv.close();
  }
});

// Issue 15 case 4: a balance in another currency is never taken as the package's.
test('DeepSeek: a CNY-only balance for a USD package is not 99.8 USD; a configured rate converts; a 0.00 USD row beside funds warns', async () => {
  const srv = await balanceServer();
  const cnyOnly = { is_available: true, balance_infos: [{ currency: 'CNY', total_balance: '99.80', granted_balance: '0.00', topped_up_balance: '99.80' }] };
  srv.routes['/user/balance'] = { status: 200, body: cnyOnly };
  const t = await setup({ deepseek: deepseekPkg({ used_credits: 1 }) });
  try {
    const plain = new BalancePoller({ settings: { enabled: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log });
    const r = await plain.pollPackage('deepseek');
    assert.match(r.error, /the balance is in CNY, the package in USD; set quota_poll\.exchange_rates\."CNY\/USD"/);
    assert.equal(t.read().packages.deepseek.total_credits, 10, 'the last value is kept');
    assert.equal(plain.statusFor('deepseek').last_poll_error, r.error);
    const rated = new BalancePoller({ settings: { enabled: true, exchange_rates: { 'CNY/USD': 0.14 }, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log });
    const c = await rated.pollPackage('deepseek');
    assert.equal(c.error, null);
    const e = t.read().packages.deepseek;
    assert.ok(Math.abs(e.total_credits - e.used_credits - 99.8 * 0.14) < 1e-6, `remaining = 99.80 CNY x 0.14 (total ${e.total_credits}, used ${e.used_credits})`);
    assert.match(rated.statusFor('deepseek').poll_warning, /converted from CNY 99\.80/);
    srv.routes['/user/balance'] = { status: 200, body: { is_available: true, balance_infos: [{ currency: 'USD', total_balance: '0.00' }, ...cnyOnly.balance_infos] } };
    await rated.pollPackage('deepseek');
    assert.match(rated.statusFor('deepseek').poll_warning, /the USD balance is 0 while CNY 99\.80 is funded/);
  } finally {
    await srv.close();
  }
});

// Issue 15 case 5: the count of failures in a row survives restarts (each `poll --once` is one).
test('poll failures are counted across poller instances: the third in a row sets confidence low', async () => {
  const srv = await balanceServer();
  srv.routes['/user/balance'] = { status: 500, body: { error: 'down' } };
  const t = await setup({ deepseek: deepseekPkg({ confidence: 'medium' }) });
  try {
    for (let run = 1; run <= 4; run++) {
      const once = new BalancePoller({ settings: { enabled: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log });
      await once.pollPackage('deepseek');
      const entry = t.read().packages.deepseek;
      assert.equal(entry._poll.failures, run);
      assert.equal(entry.confidence, run >= 3 ? 'low' : 'medium', `run ${run}`);
    }
    srv.routes['/user/balance'] = { status: 200, body: balance('9.00') };
    await new BalancePoller({ settings: { enabled: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log }).pollPackage('deepseek');
    assert.equal(t.read().packages.deepseek._poll.failures, undefined, 'a success starts the count again');
    assert.equal(t.read().packages.deepseek.confidence, 'high');
  } finally {
    await srv.close();
  }
});

test('DeepSeek: currency codes match whatever their case', async () => {
  const srv = await balanceServer();
  srv.routes['/user/balance'] = { status: 200, body: { is_available: true, balance_infos: [{ currency: 'USD', total_balance: '7.00' }] } };
  const t = await setup({ deepseek: deepseekPkg({ currency: 'usd' }) });
  try {
    const r = await new BalancePoller({ settings: { enabled: true, providers: { deepseek: { base_url: srv.url, api_key: 'sk-ds-test' } } }, store: t.store, log: t.log }).pollPackage('deepseek');
    assert.equal(r.error, null);
    assert.equal(t.read().packages.deepseek.used_credits, 3);
  } finally {
    await srv.close();
  }
});
