// Scale-out on one PostgreSQL: several gateway processes behind a notional load balancer must
// agree on quotas within 1 s, lose and double-count nothing across kill -9 and a database outage,
// share 429 cooldowns, and elect exactly one balance poller that fails over.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const pg = require('pg');
const { tmpDir, startChildGateway, chat } = require('./helpers');
const { startPostgres } = require('./pg-server');
const { FakeProvider } = require('../lib/demo/fake-provider');

let server = null;
test.before(async () => {
  server = await startPostgres();
});
test.after(() => server && server.destroy());

const freshDatabaseUrl = () => server.freshDatabaseUrl('scaleout');

async function sql(url, text, params = []) {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn().catch((err) => err);
    if (last === true) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

const getJson = async (url) => (await fetch(url)).json();
const usedOn = async (inst, pkg = 'up') => (await getJson(`${inst.url}/api/quotas`)).packages.find((p) => p.package_id === pkg).used;

function pgExtra(url, more = {}) {
  return { ledger: { backend: 'postgres', postgres: { url, batch_ms: 5, follow_interval_ms: 100, election_interval_ms: 300 } }, ...more };
}

async function startFleet(n, upstream, url, more) {
  const fleet = [];
  for (let i = 0; i < n; i++) {
    const dir = tmpDir(`qg-fleet-${i}-`);
    fleet.push({ dir, ...(await startChildGateway(dir, upstream.url, pgExtra(url, more))) });
  }
  return fleet;
}

async function stopFleet(fleet) {
  for (const inst of fleet) {
    if (!inst.down && (inst.child.exitCode !== null || inst.child.signalCode !== null)) {
      process.stderr.write(`instance ${inst.url} died (${inst.child.exitCode ?? inst.child.signalCode}):\n${inst.stderr().slice(-3000)}\n`);
    }
    if (inst.child.exitCode === null && inst.child.signalCode === null) {
      inst.child.kill('SIGKILL');
      await inst.exited;
    }
  }
}

// A fresh database, one fake upstream and n gateway processes on them, torn down afterwards.
async function withFleet(n, fn) {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 2, limit: 1e9 }).listen(0);
  const fleet = await startFleet(n, upstream, url);
  try {
    await fn({ url, upstream, fleet });
  } finally {
    await stopFleet(fleet);
    await upstream.close();
  }
}

// Waits until every live instance reports `expected` used for the package.
function allCount(what, fleet, expected, timeoutMs, pkg = 'up') {
  return waitFor(what, async () => {
    const used = await Promise.all(fleet.filter((inst) => !inst.down).map((inst) => usedOn(inst, pkg)));
    return used.every((u) => u === expected) || used;
  }, timeoutMs);
}

// Closed-loop load spread round-robin over the fleet (instances may be replaced while it runs).
function startLoad(fleet, workers = 9) {
  const load = { served: new Set(), failures: 0, errors: [], stop: false };
  let next = 0;
  const worker = async () => {
    while (!load.stop) {
      const inst = fleet[next++ % fleet.length];
      if (inst.down) {
        await sleep(2);
        continue;
      }
      try {
        const res = await fetch(`${inst.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m')) });
        const text = await res.text();
        if (res.status === 200 && text.includes('"finish_reason":"stop"')) load.served.add(`${res.headers.get('x-request-id')}:up`);
        else if (!inst.down) {
          load.failures += 1;
          load.errors.push(`${res.status} ${text.slice(0, 200)}`);
        }
      } catch (err) {
        if (!inst.down) {
          load.failures += 1;
          load.errors.push(err.message);
        }
      }
    }
  };
  load.done = Promise.all(Array.from({ length: workers }, worker));
  return load;
}

test('three instances under load agree on used within 1 s, and the total equals the requests served', async (t) => {
  await withFleet(3, async ({ url, fleet }) => {
    const load = startLoad(fleet);
    // Every 250 ms: what had been served by then must be counted by every instance within 1 s; the
    // lag is measured from that moment.
    let checks = 0;
    let worstLagMs = 0;
    const loadEnd = Date.now() + 4000;
    while (Date.now() < loadEnd) {
      await sleep(250);
      const servedThen = load.served.size;
      const t0 = Date.now();
      const probe = (async () => {
        let lag = null;
        while (Date.now() - t0 <= 1000) {
          const used = await Promise.all(fleet.map((inst) => usedOn(inst)));
          if (used.every((u) => u >= servedThen)) {
            lag = Date.now() - t0;
            break;
          }
          await sleep(20);
        }
        return lag;
      })();
      const lag = await probe;
      assert.ok(lag !== null, `an instance still counted fewer than the ${servedThen} requests served 1 s earlier`);
      worstLagMs = Math.max(worstLagMs, lag);
      checks++;
    }
    load.stop = true;
    await load.done;
    assert.equal(load.failures, 0, load.errors.slice(0, 3).join('; '));
    const served = load.served.size;
    const t0 = Date.now();
    await allCount('all instances to count every served request', fleet, served, 1000);
    const settleMs = Date.now() - t0;
    const rows = await sql(url, 'SELECT count(*)::int AS n FROM qg_events WHERE status = 200');
    assert.equal(rows[0].n, served);
    t.diagnostic(`${served} requests over 3 instances; ${checks} checks under load, worst convergence ${worstLagMs} ms; settled ${settleMs} ms after the load`);
  });
});

test('kill -9 of one instance under load, then restart: no event lost, none counted twice', async (t) => {
  await withFleet(3, async ({ url, upstream, fleet }) => {
    const load = startLoad(fleet);
    await waitFor('load to flow', async () => load.served.size >= 150);
    const victim = fleet[1];
    victim.down = true;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const servedAtKill = load.served.size;
    await sleep(500);
    const restarted = await startChildGateway(victim.dir, upstream.url, pgExtra(url));
    fleet[1] = { dir: victim.dir, ...restarted };
    await sleep(1500);
    load.stop = true;
    await load.done;
    assert.equal(load.failures, 0, load.errors.slice(0, 3).join('; '));
    await waitFor('every received response to be in the shared ledger', async () => {
      const now = new Set((await sql(url, 'SELECT id FROM qg_events WHERE status = 200')).map((r) => r.id));
      return [...load.served].every((id) => now.has(id)) || `${[...load.served].filter((id) => !now.has(id)).length} missing`;
    }, 3000);
    const total = (await sql(url, 'SELECT count(*)::int AS n FROM qg_events WHERE status = 200'))[0].n;
    // Requests cut by the kill may be counted (their event was durable) but were never received.
    assert.ok(total >= load.served.size && total <= load.served.size + 9, `${total} stored vs ${load.served.size} received`);
    await allCount('every instance to count exactly what the shared ledger holds', fleet, total, 2000);
    t.diagnostic(`${load.served.size} received (${servedAtKill} before the kill), ${total} stored, each instance counts ${total}`);
  });
});

test('PostgreSQL stopped for 10 s under load: every request is served, /health says degraded, totals are exact after', async (t) => {
  await withFleet(3, async ({ url, fleet }) => {
    try {
      const load = startLoad(fleet, 6);
      await waitFor('load to flow', async () => load.served.size >= 100);
      server.stop('fast');
      const outageStart = load.served.size;
      await waitFor('instances to report degraded', async () => {
        const h = await Promise.all(fleet.map((inst) => getJson(`${inst.url}/health`)));
        return h.every((x) => x.status === 'degraded' && x.ledger.connected === false) || h.map((x) => x.status);
      }, 8000);
      await sleep(10000);
      const servedDuringOutage = load.served.size - outageStart;
      server.start();
      const t0 = Date.now();
      await sleep(1000);
      load.stop = true;
      await load.done;
      assert.equal(load.failures, 0, load.errors.slice(0, 3).join('; '));
      assert.ok(servedDuringOutage > 100, `only ${servedDuringOutage} served during the outage`);
      const served = load.served.size;
      await allCount('every instance to catch up exactly', fleet, served, 10000);
      const caughtUpMs = Date.now() - t0;
      const rows = await sql(url, 'SELECT count(*)::int AS n FROM qg_events WHERE status = 200');
      assert.equal(rows[0].n, served);
      await waitFor('health to return to ok', async () => {
        const h = await Promise.all(fleet.map((inst) => getJson(`${inst.url}/health`)));
        return h.every((x) => x.status === 'ok') || h.map((x) => x.status);
      }, 5000);
      t.diagnostic(`${servedDuringOutage} requests served during the 10 s outage; all ${served} counted everywhere ${caughtUpMs} ms after PostgreSQL restarted`);
    } finally {
      if (!server.running) server.start();
    }
  });
});

test('an instance started while PostgreSQL is down serves, then migrates, ships and catches up when it arrives', async () => {
  const { startTestGateway, postJson } = require('./helpers');
  const url = await freshDatabaseUrl();
  const catalog = { p: { provider_id: 'alpha', package_type: 'rolling_window', window_hours: 24, limit_per_window: 500, models: ['*'] } };
  const ledger = { backend: 'postgres', postgres: { url, connect_timeout_ms: 500, follow_interval_ms: 100 } };
  server.stop('fast');
  let a = null, b = null;
  try {
    a = await startTestGateway({ fakes: { alpha: {} }, catalog, ledger });
    for (let i = 0; i < 10; i++) assert.equal((await postJson(`${a.url}/v1/chat/completions`, chat('m'))).status, 200);
    assert.equal((await getJson(`${a.url}/health`)).status, 'degraded');
    assert.deepEqual((await getJson(`${a.url}/api/quotas`)).ledger, { backend: 'postgres', degraded: true, reason: 'postgres unreachable', connected: false, unshipped_events: 10 },
      'the dashboard is told why (web/quotas.js shows a banner)');
    server.start();
    b = await startTestGateway({ fakes: { alpha: {} }, catalog, ledger });
    for (let i = 0; i < 5; i++) assert.equal((await postJson(`${b.url}/v1/chat/completions`, chat('m'))).status, 200);
    await waitFor('both to count all 15 and the first to be healthy', async () => {
      const used = [(await getJson(`${a.url}/api/quotas`)).packages[0].used, (await getJson(`${b.url}/api/quotas`)).packages[0].used];
      const health = (await getJson(`${a.url}/health`)).status;
      return (used[0] === 15 && used[1] === 15 && health === 'ok') || { used, health };
    }, 5000);
    assert.equal((await sql(url, 'SELECT count(*)::int AS n FROM qg_events'))[0].n, 15);
    assert.equal((await getJson(`${a.url}/api/quotas`)).ledger.degraded, false);
  } finally {
    if (!server.running) server.start();
    if (a) await a.stop();
    if (b) await b.stop();
  }
});

test('a 429 seen by one instance cools the provider on the others', async () => {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 1, limit: 1e9 }).listen(0);
  const backup = await new FakeProvider({ name: 'backup', latencyMs: 1, limit: 1e9 }).listen(0);
  const more = { providers: [{ name: 'backup', base_url: `${backup.url}/v1`, api_key: 'sk-backup-0000', models: ['*'] }] };
  const fleet = await startFleet(2, upstream, url, more);
  try {
    const ask = async (inst) => {
      const res = await fetch(`${inst.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m')) });
      await res.text();
      return { status: res.status, provider: res.headers.get('x-quotagate-provider') };
    };
    assert.deepEqual(await ask(fleet[1]), { status: 200, provider: 'up' }, 'up is preferred while healthy');
    upstream.mode = '429';
    assert.deepEqual(await ask(fleet[0]), { status: 200, provider: 'backup' }, 'instance 0 fails over on the 429');
    upstream.mode = 'ok';
    await waitFor('instance 1 to hold up in cooldown', async () => {
      const q = await getJson(`${fleet[1].url}/api/quotas`);
      return Boolean(q.cooldowns.up) || q.cooldowns;
    }, 5000);
    const received = upstream.received;
    assert.deepEqual(await ask(fleet[1]), { status: 200, provider: 'backup' }, 'instance 1 routes around the cooled provider without trying it');
    assert.equal(upstream.received, received);
  } finally {
    await stopFleet(fleet);
    await upstream.close();
    await backup.close();
  }
});

test('a limit learned from repeated 429s on one instance is learned on the others too', async () => {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 1, limit: 1e9 }).listen(0);
  const backup = await new FakeProvider({ name: 'backup', latencyMs: 1, limit: 1e9 }).listen(0);
  const more = {
    providers: [{ name: 'backup', base_url: `${backup.url}/v1`, api_key: 'sk-backup-0000', models: ['*'] }],
    catalog: { up: { provider_id: 'up', package_type: 'rolling_window', window_hours: 5, limit_per_window: 100, models: ['*'] } },
    routing: { default_cooldown_s: 0.2, learn_after_rejections: 2 },
  };
  const fleet = await startFleet(2, upstream, url, more);
  const ask = async (inst) => {
    const res = await fetch(`${inst.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m')) });
    await res.text();
    return res.headers.get('x-quotagate-provider');
  };
  const learned = async (inst) => (await getJson(`${inst.url}/api/quotas`)).packages.find((p) => p.package_id === 'up').learned_limit;
  try {
    for (let i = 0; i < 5; i++) assert.equal(await ask(fleet[i % 2]), 'up');
    // The learned limit is the local count at the second rejection: both must hold all five first.
    await allCount('both instances to count the five requests', fleet, 5, 2000);
    upstream.mode = '429-bare';  // no headers that would blame a short per-minute limit
    for (let episode = 0; episode < 2; episode++) {
      await waitFor('the cooldown to pass', async () => Object.keys((await getJson(`${fleet[0].url}/api/quotas`)).cooldowns).length === 0, 3000);
      assert.equal(await ask(fleet[0]), 'backup');
    }
    const a = await learned(fleet[0]);
    assert.ok(a && a.limit === 5, `instance 0 learned ${JSON.stringify(a)}`);
    await waitFor('instance 1 to learn the same limit', async () => {
      const b = await learned(fleet[1]);
      return (b && b.limit === a.limit && b.rejections === a.rejections) || b;
    }, 5000);
  } finally {
    await stopFleet(fleet);
    await upstream.close();
    await backup.close();
  }
});

test('exactly one instance polls balances, its readings reach every instance, and polling fails over when it dies', async (t) => {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 1, limit: 1e9 }).listen(0);
  let balance = '60.00';
  let polls = 0;
  const balanceApi = http.createServer((req, res) => {
    polls++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ is_available: true, balance_infos: [{ currency: 'USD', total_balance: balance, granted_balance: '0', topped_up_balance: balance }] }));
  });
  await new Promise((resolve) => balanceApi.listen(0, '127.0.0.1', resolve));
  const more = {
    catalog: {
      up: { provider_id: 'up', package_type: 'rolling_window', window_hours: 24, limit_per_window: 1000000, models: ['*'] },
      ds: { provider_id: 'deepseek', package_type: 'credits', total_credits: 100, used_credits: 0, source: 'api_poll', currency: 'USD' },
    },
    quota_poll: { enabled: true, interval_seconds: 1, fast_lane_interval_seconds: 1,
      providers: { deepseek: { base_url: `http://127.0.0.1:${balanceApi.address().port}`, api_key: 'sk-poll-test-0000' } } },
  };
  const fleet = await startFleet(3, upstream, url, more);
  const leaders = async () => (await Promise.all(fleet.map((inst) => (inst.down ? null : getJson(`${inst.url}/health`)))))
    .map((h, i) => (h && h.ledger.poller_leader ? i : -1)).filter((i) => i >= 0);
  try {
    await waitFor('one leader', async () => (await leaders()).length === 1 || leaders());
    await allCount('the first reading on every instance', fleet, 40, 5000, 'ds');
    const before = polls;
    await sleep(3000);
    const rate = (polls - before) / 3;
    assert.ok(rate <= 1.5, `${rate.toFixed(2)} polls/s with a 1 s interval: more than one instance is polling`);
    assert.deepEqual((await leaders()).length, 1);

    const [leader] = await leaders();
    fleet[leader].down = true;
    fleet[leader].child.kill('SIGKILL');
    await fleet[leader].exited;
    const killedAt = Date.now();
    await waitFor('a new leader', async () => (await leaders()).length === 1 || leaders(), 5000);
    const takeoverMs = Date.now() - killedAt;
    balance = '55.00';
    await allCount('the new leader\'s reading on the surviving instances', fleet, 45, 5000, 'ds');
    t.diagnostic(`poll rate with one leader: ${rate.toFixed(2)}/s at a 1 s interval; a new leader took over ${takeoverMs} ms after kill -9`);
  } finally {
    await stopFleet(fleet);
    await upstream.close();
    balanceApi.close();
  }
});

test('alerts in postgres mode: only the elected instance sends, once per transition, and a new leader does not repeat it', async (t) => {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 1, limit: 1e9 }).listen(0);
  const got = [];
  const hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const more = {
    catalog: { tiny: { provider_id: 'up', package_type: 'rolling_window', window_hours: 24, limit_per_window: 6, models: ['*'] } },
    alerts: [{ name: 'ops', url: `http://127.0.0.1:${hooks.address().port}/hook`, format: 'json', on: ['exhausted'], min_interval_s: 0 }],
    alert_interval_ms: 200,
  };
  const fleet = await startFleet(3, upstream, url, more);
  const leaders = async () => (await Promise.all(fleet.map((inst) => (inst.down ? null : getJson(`${inst.url}/health`)))))
    .map((h, i) => (h && h.ledger.poller_leader ? i : -1)).filter((i) => i >= 0);
  try {
    await waitFor('one leader', async () => (await leaders()).length === 1 || leaders());
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${fleet[i % 3].url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m')) });
      assert.equal(res.status, 200);
      await res.text();
    }
    await waitFor('the exhausted alert', async () => got.length >= 1 || got.length, 5000);
    await sleep(1500);  // seven more readings on each instance
    assert.deepEqual(got.map((m) => `${m.event} ${m.package_id} ${m.remaining}`), ['exhausted tiny 0'], 'one message from three instances');
    const [leader] = await leaders();
    fleet[leader].down = true;
    fleet[leader].child.kill('SIGKILL');
    await fleet[leader].exited;
    await waitFor('a new leader', async () => (await leaders()).length === 1 || leaders(), 5000);
    await sleep(1500);
    assert.equal(got.length, 1, 'the new leader read what was sent from PostgreSQL and did not send it again');
    t.diagnostic(`messages: ${got.length} from 3 instances, across a leader failover`);
  } finally {
    await stopFleet(fleet);
    await upstream.close();
    hooks.close();
  }
});

test('quotagate db migrate and db status: idempotent, versioned, and they name what is wrong', async () => {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const fs = require('node:fs');
  const BIN = path.join(__dirname, '..', 'bin', 'quotagate');
  const url = await freshDatabaseUrl();
  const dir = tmpDir('qg-db-cli-');
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, 'ledger:\n  backend: postgres\n  postgres:\n    url: ${QG_TEST_PG_URL}\n');
  const run = (args, env = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, QG_TEST_PG_URL: url, ...env } });
  let r = run(['db', 'status', '--config', config]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /schema: v0 .*pending: v1 events, signals, balances, instances, v2 cached input tokens per event, v3 accounts of events and signals, the fleet account secret \(run "quotagate db migrate"\)/);
  r = run(['db', 'migrate', '--config', config]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'applied v1, v2, v3; schema at v3\n');
  r = run(['db', 'migrate', '--config', config]);
  assert.equal(r.stdout, 'schema already at v3; nothing to apply\n');
  r = run(['db', 'status', '--config', config, '--json']);
  const status = JSON.parse(r.stdout);
  assert.equal(status.version, 3);
  assert.deepEqual(status.pending, []);
  // Unreachable: exit 2, one line, no password.
  r = run(['db', 'status', '--config', config], { QG_TEST_PG_URL: 'postgres://qg:PLANTED-cli-pass@127.0.0.1:1/x' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^quotagate: postgres: .*ECONNREFUSED/);
  assert.doesNotMatch(r.stderr, /PLANTED-cli-pass/);
  r = spawnSync(process.execPath, [BIN, 'doctor', '--config', config], { encoding: 'utf8', env: { ...process.env, QG_TEST_PG_URL: url } });
  assert.match(r.stdout, /ok {4}shared ledger reachable, schema v3, 0 instance\(s\) registered/);
  // The wrong backend is named.
  fs.writeFileSync(config, 'ledger:\n  backend: sqljs\n');
  r = run(['db', 'status', '--config', config]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ledger\.backend: expected postgres for "quotagate db", got "sqljs"/);
});

test('accounts in postgres mode: a caller\'s login is one account on every instance, with its usage and its family cooldown', async () => {
  const url = await freshDatabaseUrl();
  const upstream = await new FakeProvider({ name: 'up', latencyMs: 1 }).listen(0);
  const sub = await new FakeProvider({ name: 'sub', dialect: 'anthropic', latencyMs: 1, limit: 100, windowMs: 5 * 3600000, perCredential: true,
    families: [{ family: 'oi', match: /opus/, limit: 1 }] }).listen(0);
  const token = 'sk-ant-oat01-PLANTED-fleet-user-9e8d';
  const more = { providers: [{ name: 'sub', backend: 'anthropic', base_url: sub.url, auth: 'client', models: ['claude-*'] }],
    // 'up' serves only gpt-* here: every claude request is the subscription's or no one's.
    catalog: { up: { provider_id: 'up', package_type: 'rolling_window', window_hours: 24, limit_per_window: 1e6, models: ['gpt-*'] },
      'sub-5h': { provider_id: 'sub', package_type: 'rolling_window', window_hours: 5, limit_per_window: 100, models: ['claude-*'] } } };
  const fleet = await startFleet(2, upstream, url, more);
  const post = (inst, model) => new Promise((resolve, reject) => {
    const body = JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const req = http.request(`${inst.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01',
      authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, provider: res.headers['x-quotagate-provider'], account: res.headers['x-quotagate-account'], text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    const a = await post(fleet[0], 'claude-sonnet-4-5');
    assert.equal(a.provider, 'sub', a.text);
    const b = await post(fleet[1], 'claude-sonnet-4-5');
    assert.equal(b.account, a.account, 'the fleet shares one account secret: one credential, one fingerprint');
    const subOf = async (inst) => (await getJson(`${inst.url}/api/quotas`)).packages.find((p) => p.package_id === 'sub-5h' && p.account_id === a.account);
    await waitFor('both instances count both requests on the account', async () => {
      const [x, y] = [await subOf(fleet[0]), await subOf(fleet[1])];
      return Boolean(x && y && x.used >= 2 && y.used >= 2);
    });
    // A family rejection on one instance cools that family on the other.
    assert.equal((await post(fleet[0], 'claude-opus-4-8')).provider, 'sub');
    assert.equal((await post(fleet[0], 'claude-opus-4-8')).status, 429, 'the weekly oi limit: no other candidate');
    await waitFor('the other instance knows the oi window', async () => {
      const s = await subOf(fleet[1]);
      return Boolean(s && (s.model_windows || []).some((w) => w.family === 'oi' && w.exhausted));
    });
    const received = sub.received;
    assert.equal((await post(fleet[1], 'claude-opus-4-8')).status, 429);
    assert.equal(sub.received, received, 'the cooled family was not asked again from the other instance');
    assert.equal((await post(fleet[1], 'claude-sonnet-4-5')).provider, 'sub', 'the account\'s other models still flow');
    const rows = await sql(url, 'SELECT DISTINCT account FROM qg_events WHERE provider_id = $1', ['sub']);
    assert.deepEqual(rows.map((r) => r.account), [a.account]);
    const leaked = await sql(url, "SELECT count(*)::int AS n FROM qg_signals WHERE headers LIKE '%PLANTED%' OR body LIKE '%PLANTED%'");
    assert.equal(leaked[0].n, 0);
  } finally {
    await stopFleet(fleet);
    await upstream.close();
    await sub.close();
  }
});
