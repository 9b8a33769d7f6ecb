// quotagate status --watch: successive tables (a timestamp line before each when stdout is not a
// TTY, a cleared screen when it is), most urgent first, the files re-read on every refresh, a clean
// exit on SIGTERM / SIGINT, and exit code 2 for bad --interval values and conflicting options.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { spawn, spawnSync } = require('node:child_process');
const { watchStatus, byUrgency } = require('../lib/cli/status-watch');

const BIN = path.join(__dirname, '..', 'bin', 'quotagate');
const DAY = 86400000;
const date = (ms) => new Date(ms).toISOString().slice(0, 10);
const ALERTS = ['exhausted', 'use_or_lose', 'expired', 'topup', 'watch', 'ok'];

// Package ids in the reverse of their urgency, so that catalog or alphabetical order would fail.
function fixture() {
  const now = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-watch-'));
  const packages = {
    'a-ok': { provider_id: 'pa', total_credits: 100 },
    'b-watch': { provider_id: 'pb', package_type: 'daily', limit_per_day: 10 },
    'c-topup': { provider_id: 'pc', package_type: 'daily', limit_per_day: 20 },
    'd-expired': { provider_id: 'pd', total_credits: 10, expiry_date: date(now - 2 * DAY) },
    'e-uol-later': { provider_id: 'pe', total_credits: 20, expiry_date: date(now + 10 * DAY) },
    'f-uol-sooner': { provider_id: 'pf', total_credits: 20, expiry_date: date(now + 3 * DAY) },
    'g-exhausted': { provider_id: 'pg', total_credits: 5, used_credits: 5 },
  };
  const catalog = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(catalog, JSON.stringify({ schema_version: 1, packages }));
  const at = new Date(Math.max(now - 60000, Math.floor(now / DAY) * DAY)).toISOString();
  const events = [...Array(8).fill('pb'), ...Array(19).fill('pc')].map((p) => ({ ts: at, provider_id: p, model: 'm', status: 200, cost: 0 }));
  const ledger = path.join(dir, 'ledger.jsonl');
  fs.writeFileSync(ledger, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return { catalog, ledger, ids: Object.keys(packages).reverse() };
}

// The blocks of a non-TTY run: [{ at, rows: [{package, alert, remaining}] }].
function blocks(out) {
  return out.split(/^--- /m).slice(1).map((block) => {
    const [head, , , ...rows] = block.trimEnd().split('\n');
    const m = /^quotagate status at (\S+) · every (\S+) s · most urgent first$/.exec(head);
    assert.ok(m, head);
    return { at: m[1], every: Number(m[2]), rows: rows.map((r) => r.split(/\s{2,}/)).map((c) => ({ package: c[0], alert: c[3], remaining: c[4] })) };
  });
}

function waitFor(predicate, ms) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => (predicate() ? resolve() : Date.now() - started > ms ? reject(new Error('timed out')) : setTimeout(tick, 25));
    tick();
  });
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`--watch: tables every interval, most urgent first, files re-read, ${signal} exits 0`, async () => {
    const f = fixture();
    const child = spawn(process.execPath, [BIN, 'status', '--catalog', f.catalog, '--ledger', f.ledger, '--watch', '--interval', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
    try {
      await waitFor(() => blocks(out).length >= 1, 15000);
      // Spent between two refreshes: the next table shows it.
      const spent = `${JSON.stringify({ ts: new Date().toISOString(), provider_id: 'pa', model: 'm', status: 200, cost: 0.01 })}\n`;
      fs.writeFileSync(`${f.ledger}.tmp`, fs.readFileSync(f.ledger, 'utf8') + spent);
      fs.renameSync(`${f.ledger}.tmp`, f.ledger);  // never half a line for the reader
      await waitFor(() => blocks(out).length >= 3, 15000);
    } finally {
      child.kill(signal);
    }
    const { code, sig } = await exited;
    assert.equal(sig, null, `ended by the signal instead of exiting: ${err}`);
    assert.equal(code, 0, err);
    assert.equal(err, '');
    assert.doesNotMatch(out, /\x1b\[/, 'no ANSI escapes when stdout is not a TTY');
    const all = blocks(out);
    for (const b of all) {
      assert.equal(b.every, 1);
      assert.deepEqual(b.rows.map((r) => r.package), f.ids);
      assert.deepEqual(b.rows.map((r) => r.alert), ['exhausted', 'use_or_lose', 'use_or_lose', 'expired', 'topup', 'watch', 'ok']);
    }
    const gaps = all.slice(1).map((b, i) => Date.parse(b.at) - Date.parse(all[i].at));
    for (const g of gaps) assert.ok(g >= 900 && g < 5000, `refreshes ${g} ms apart`);
    assert.equal(all[0].rows.find((r) => r.package === 'a-ok').remaining, '100.00/100.00 USD');
    assert.equal(all[all.length - 1].rows.find((r) => r.package === 'a-ok').remaining, '99.99/100.00 USD');
  });
}

test('--watch on a TTY clears the screen before each table and stops on SIGINT', async () => {
  const f = fixture();
  const writes = [];
  const out = Object.assign(new EventEmitter(), { isTTY: true, write: (s) => writes.push(s) });
  const signals = new EventEmitter();
  const done = watchStatus({ catalog: f.catalog, ledger: f.ledger, interval: '1' }, { out, signals });
  await waitFor(() => writes.length >= 2, 10000);
  signals.emit('SIGINT');
  await done;
  assert.equal(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM') + out.listenerCount('error'), 0);
  for (const w of writes) {
    assert.ok(w.startsWith('\x1b[H\x1b[2J'), JSON.stringify(w.slice(0, 20)));
    assert.match(w, /most urgent first {2}\(Ctrl-C to stop\)\n\npackage +provider/);
  }
});

test('urgency order: alert first, then the soonest reset or expiry', () => {
  const p = (id, alert, reset_at = null, expires_at = null) => ({ package_id: id, alert, reset_at, expires_at });
  const sorted = byUrgency([p('z', 'ok'), p('y', 'watch', '2026-12-01T10:00:00Z'), p('x', 'watch', '2026-12-01T09:00:00Z'),
    p('w', 'use_or_lose', null, '2026-12-09T00:00:00Z'), p('v', 'exhausted', '2026-12-02T00:00:00Z'), p('u', 'watch')]);
  assert.deepEqual(sorted.map((q) => q.package_id), ['v', 'w', 'x', 'y', 'u', 'z']);
  assert.deepEqual(byUrgency([...ALERTS].reverse().map((a) => p(a, a))).map((q) => q.alert), ALERTS);
});

test('--watch: bad intervals and conflicting options exit 2 with one line', () => {
  const f = fixture();
  const base = ['status', '--catalog', f.catalog];
  for (const args of [['--watch', '--interval', '0'], ['--watch', '--interval', '0.5'], ['--watch', '--interval', '3601'],
    ['--watch', '--interval', 'soon'], ['--interval', '5'], ['--watch', '--now', '2026-11-28T12:00:00Z'], ['--watch', '--json']]) {
    const r = spawnSync(process.execPath, [BIN, ...base, ...args], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const missing = spawnSync(process.execPath, [BIN, 'status', '--catalog', '/nonexistent/catalog.v1.json', '--watch'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read catalog/);
});

test('status --url reads a running gateway (admin token from the environment), once and with --watch; errors name the host, never the token', async () => {
  const { startTestGateway, postJson, chat } = require('./helpers');
  const token = 'qg-admin-token-for-watch-0123456789';
  const gw = await startTestGateway({ fakes: { up: {} }, server: { admin_token: token },
    catalog: { 'z-day': { provider_id: 'up', package_type: 'daily', limit_per_day: 2, reset_timezone: 'UTC', models: ['*'] },
      'a-credits': { provider_id: 'up', total_credits: 10 } } });
  try {
    await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
    await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
    const run = (args, env = {}) => new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'status', ...args], { env: { ...process.env, ...env } });
      let out = '', err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('exit', (code) => resolve({ code, out, err }));
    });
    const once = await run(['--url', gw.url, '--json'], { QUOTAGATE_ADMIN_TOKEN: token });
    assert.equal(once.code, 0, once.err);
    assert.equal(JSON.parse(once.out).packages.find((p) => p.package_id === 'z-day').remaining, 0);
    const refused = await run(['--url', gw.url]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /127\.0\.0\.1:\d+: the admin token was not given \(set QUOTAGATE_ADMIN_TOKEN/);
    const wrong = await run(['--url', gw.url], { QUOTAGATE_ADMIN_TOKEN: 'not-the-token-xyz' });
    assert.match(wrong.err, /the admin token was refused/);
    assert.ok(!wrong.err.includes('not-the-token-xyz'));
    assert.equal((await run(['--url', gw.url, '--catalog', 'x.json'])).code, 2);

    const child = spawn(process.execPath, [BIN, 'status', '--url', gw.url, '--watch', '--interval', '1'], { env: { ...process.env, QUOTAGATE_ADMIN_TOKEN: token } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await waitFor(() => (out.match(/^--- /gm) || []).length >= 2, 10000);
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const b = blocks(out);
    assert.ok(b.length >= 2);
    assert.deepEqual(b[0].rows.map((r) => r.package), ['z-day', 'a-credits'], 'the exhausted package first');
    assert.equal(b[0].rows[0].alert, 'exhausted');
  } finally {
    await gw.stop();
  }
});

test('status --url --watch: Ctrl-C ends a refresh waiting on a gateway that does not answer, at once and with code 0', async () => {
  const http = require('node:http');
  const silent = http.createServer(() => {});  // accepts, never answers
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const child = spawn(process.execPath, [BIN, 'status', '--url', `http://127.0.0.1:${silent.address().port}/prefix`, '--watch'], { env: { ...process.env, QUOTAGATE_ADMIN_TOKEN: 'x' } });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    assert.ok(Date.now() - t0 < 1500, `exited ${Date.now() - t0} ms after Ctrl-C`);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});
