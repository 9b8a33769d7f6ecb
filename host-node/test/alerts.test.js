// Alerts: transitions send exactly one message of the right shape per target and format, flapping
// sends one, a failing receiver is retried and then counted as failed, and a webhook URL (a secret)
// reaches no log, metric or document. Leader-only sending in PostgreSQL mode is in scaleout.test.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { startTestGateway, postJson, chat, tmpDir } = require('./helpers');
const { AlertTracker } = require('../lib/alerts/alert-tracker');
const { AlertDelivery } = require('../lib/alerts/alert-delivery');
const { normalise, ConfigError } = require('../lib/config');
const { Redactor } = require('../lib/redact');
const { alertsTest } = require('../lib/cli/alerts-command');

// A local webhook receiver: records every POST; `plan[path]` lists the statuses to answer in turn
// (the last one repeats; default 200).
async function receiver(plan = {}) {
  const got = [];
  const served = {};
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const p = req.url.split('?')[0];
      got.push({ path: p, url: req.url, headers: req.headers, body });
      const statuses = plan[p] || [200];
      const i = served[p] = (served[p] ?? -1) + 1;
      res.statusCode = statuses[Math.min(i, statuses.length - 1)];
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, got, close: () => new Promise((r) => server.close(r)) };
}

// A normalised target, defaults filled in as the gateway's config has them.
const target = (over = {}) => normalise({ providers: [], alerts: [{ name: 't', url: 'http://127.0.0.1:1/x', ...over }] }, 'test.yaml').alerts[0];

// A quotas document with one window package at `used` of 100 and the given engine alert.
function doc(used, alert = 'ok', extra = {}) {
  return { packages: [{ package_id: 'day', provider_id: 'up', package_type: 'daily', unit: 'requests', total: 100, remaining: 100 - used,
    remaining_ratio: (100 - used) / 100, alert, window_hours: 24, reset_at: '2026-12-02T00:00:00Z', secondary_windows: [], ...extra }], ledger: { degraded: false } };
}

test('tracker: each transition fires once, a state flapping within clear_after_s fires once, and recovery is announced after it', () => {
  const t = new AlertTracker(target({ on: ['use_or_lose', 'exhausted', 'recovered'], min_interval_s: 0, clear_after_s: 600 }));
  let now = Date.parse('2026-12-01T00:00:00Z');
  const step = (d) => t.evaluate(d, now += 30000).map((x) => x.event);
  assert.deepEqual(step(doc(10)), []);
  assert.deepEqual(step(doc(10, 'use_or_lose')), ['use_or_lose']);
  assert.deepEqual(step(doc(10, 'use_or_lose')), []);
  for (let i = 0; i < 10; i++) assert.deepEqual(step(doc(10, i % 2 ? 'use_or_lose' : 'ok')), [], `flap ${i}`);
  assert.deepEqual(step(doc(100, 'exhausted')), ['exhausted']);
  assert.deepEqual(step(doc(100, 'exhausted')), []);
  // Back to ok: announced once both alerts have been clear for 600 s (20 readings of 30 s).
  const events = [];
  for (let i = 0; i < 25; i++) events.push(...step(doc(0, 'ok')));
  assert.deepEqual(events, ['recovered']);
  // A new episode after the clear fires again.
  assert.deepEqual(step(doc(10, 'use_or_lose')), ['use_or_lose']);
});

test('tracker: a utilization hovering at a threshold sends one message; a jump sends only the highest; a reset re-arms', () => {
  const t = new AlertTracker(target({ on: ['utilization'], utilization: [50, 80, 95], min_interval_s: 0 }));
  let now = 0;
  const step = (used) => t.evaluate(doc(used), now += 1000).map((x) => x.threshold);
  assert.deepEqual(step(40), []);
  assert.deepEqual(step(80.1), [80]);  // 50 is passed too, silently
  for (const u of [79.9, 80.1, 79.5, 80.4, 76, 81]) assert.deepEqual(step(u), [], `hover at ${u}`);
  assert.deepEqual(step(96), [95]);
  assert.deepEqual(step(0), []);        // the window reset: every threshold re-arms
  assert.deepEqual(step(99), [95]);     // one message for the jump, not three
  assert.deepEqual(step(10), []);
  assert.deepEqual(step(55), [50]);
});

test('tracker: a package alert and a threshold crossed in the same reading send one message; the threshold stays passed', () => {
  const t = new AlertTracker(target({ on: ['exhausted', 'utilization'], utilization: [80], min_interval_s: 0 }));
  assert.deepEqual(t.evaluate(doc(100, 'exhausted'), 1000).map((x) => x.event), ['exhausted']);
  assert.deepEqual(t.evaluate(doc(100, 'exhausted'), 2000), []);
  assert.deepEqual(t.evaluate(doc(85, 'ok'), 3000), [], '80 % was passed silently with the exhaustion');
});

test('tracker: min_interval_s holds a key quiet, and the memory survives a restart (nothing is sent twice)', () => {
  const cfg = target({ on: ['exhausted'], min_interval_s: 3600, clear_after_s: 0 });
  const t = new AlertTracker(cfg);
  assert.equal(t.evaluate(doc(100, 'exhausted'), 1000).length, 1);
  assert.equal(t.evaluate(doc(0, 'ok'), 2000).length, 0);
  assert.equal(t.evaluate(doc(100, 'exhausted'), 3000).length, 0, 'within min_interval_s');
  assert.equal(t.suppressed, 1);
  const restarted = new AlertTracker(cfg);
  restarted.load(JSON.parse(JSON.stringify(t.toJSON())));
  assert.equal(restarted.evaluate(doc(100, 'exhausted'), 4000).length, 0, 'still active after the restart');
  const fresh = new AlertTracker(cfg);
  assert.equal(fresh.evaluate(doc(100, 'exhausted'), 4000).length, 1, 'a tracker without memory announces the current state once');
});

test('config: alerts are validated with the file, key and expectation, and a URL is never echoed', () => {
  const cfg = (alerts) => normalise({ providers: [], alerts }, '/etc/qg.yaml');
  assert.throws(() => cfg([{ name: 'a', url: 'ftp://hooks.example/SECRET-TOKEN-1', format: 'slack' }]),
    (err) => err instanceof ConfigError && /\/etc\/qg\.yaml: alerts\[0\]\.url: expected an http\(s\) webhook URL/.test(err.message) && !err.message.includes('SECRET-TOKEN-1'));
  assert.throws(() => cfg([{ name: 'a', url: 'https://x.example/h', format: 'teams' }]), /alerts\[0\]\.format: expected one of slack, discord, ntfy, json/);
  assert.throws(() => cfg([{ name: 'a', url: 'https://x.example/h', on: ['exhausted', 'sometimes'] }]), /alerts\[0\]\.on\[1\]: expected one of /);
  assert.throws(() => cfg([{ name: 'a', url: 'https://x.example/h', utilization: [80, 120] }]), /alerts\[0\]\.utilization\[1\]: expected a number >= 1 <= 100/);
  assert.throws(() => cfg([{ name: 'a', url: 'https://x.example/h' }, { name: 'a', url: 'https://x.example/i' }]), /alerts\[1\]\.name: expected a name no other target has/);
  assert.throws(() => cfg([{ name: 'a', url: '' }]), /alerts\[0\]\.url: expected an http\(s\) webhook URL \(is the \$\{VARIABLE\} it names set\?\), got /);
  const ok = cfg([{ name: 'ops', url: 'https://hooks.example/services/T/B/x', format: 'ntfy', utilization: [95, 50, 80] }]);
  assert.deepEqual(ok.alerts[0].utilization, [50, 80, 95]);
  assert.equal(ok.alerts[0].min_interval_s, 300);
});

test('gateway: each transition sends exactly one message per target, in each format, with what is left, the reset and the dashboard link', async () => {
  const hooks = await receiver();
  const on = ['exhausted', 'utilization'];
  const alerts = ['json', 'slack', 'discord', 'ntfy'].map((format) => ({ name: `to-${format}`, url: `${hooks.url}/${format}`, format, on, utilization: [50, 90], min_interval_s: 0 }));
  const gw = await startTestGateway({ fakes: { up: {} }, catalog: { day: { provider_id: 'up', package_type: 'daily', limit_per_day: 3, reset_timezone: 'UTC', models: ['*'] } }, alerts });
  try {
    const sent = async () => {
      await gw.alerts.tick();
      await gw.alerts.delivery.drain();
      return hooks.got.splice(0);
    };
    await sent();  // the start-up reading
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).status, 200);
    assert.deepEqual(await sent(), [], 'one of three used: no threshold passed');
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).status, 200);
    let got = await sent();
    assert.deepEqual(got.map((g) => g.path).sort(), ['/discord', '/json', '/ntfy', '/slack']);
    const json = JSON.parse(got.find((g) => g.path === '/json').body);
    assert.equal(json.event, 'utilization');
    assert.equal(json.threshold_pct, 50);
    assert.equal(json.utilization_pct, 66.7);
    assert.equal(json.package_id, 'day');
    assert.equal(json.remaining, 1);
    assert.equal(json.dashboard_url, `${gw.url}/dashboard/quotas`);
    assert.deepEqual(await sent(), [], 'the same reading again: nothing');

    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).status, 200);
    got = await sent();
    const jsons = got.filter((g) => g.path === '/json').map((g) => JSON.parse(g.body));
    assert.deepEqual(jsons.map((j) => j.event), ['exhausted'], 'the 90 % crossing of the same reading is not a second message');
    const exhausted = jsons.find((j) => j.event === 'exhausted');
    assert.equal(exhausted.remaining, 0);
    assert.equal(exhausted.severity, 'critical');
    assert.match(exhausted.reset_at, /T00:00:00/);
    assert.match(exhausted.text, /day \[up\] is exhausted: 0 of 3 requests left; resets \d{4}-\d\d-\d\d 00:00 UTC \(in [\d.]+ h\)/);
    assert.equal(got.length, 4, 'one transition x four targets');
    const slack = JSON.parse(got.find((g) => g.path === '/slack' && g.body.includes('exhausted')).body);
    assert.match(slack.text, /^\*quotagate: day exhausted\*\n.*0 of 3 requests left.*\n<http:\/\/127\.0\.0\.1:\d+\/dashboard\/quotas\|Dashboard>$/s);
    const discord = JSON.parse(got.find((g) => g.path === '/discord' && g.body.includes('exhausted')).body);
    assert.deepEqual(discord.allowed_mentions, { parse: [] });
    assert.match(discord.content, /^\*\*quotagate: day exhausted\*\*\n/);
    const ntfy = got.find((g) => g.path === '/ntfy' && g.headers.title === 'quotagate: day exhausted');
    assert.ok(ntfy, 'ntfy carries the title in a header');
    assert.equal(ntfy.headers.priority, '5');
    assert.match(ntfy.headers.click, /\/dashboard\/quotas$/);
    assert.match(ntfy.body, /0 of 3 requests left/);
    assert.deepEqual(await sent(), [], 'nothing more while it stays exhausted');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_alerts_sent_total\{target="to-json",event="exhausted"\} 1/);
  } finally {
    await gw.stop();
    await hooks.close();
  }
});

test('delivery: a failing receiver is retried with backoff and then counted as failed; a 5xx then 2xx is sent once; 4xx is not retried', async () => {
  const hooks = await receiver({ '/down': [500], '/flaky': [503, 200], '/gone': [404] });
  const counts = { sent: [], failed: [], dropped: [] };
  const counter = (k) => ({ inc: (labels) => counts[k].push(labels) });
  const d = new AlertDelivery({ baseDelayMs: 5, maxAttempts: 3, metrics: { sent: counter('sent'), failed: counter('failed'), dropped: counter('dropped') } });
  const msg = (name) => ({ target: { name, url: `${hooks.url}/${name}` }, event: 'exhausted', request: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } });
  d.enqueue(msg('down'));
  d.enqueue(msg('flaky'));
  d.enqueue(msg('gone'));
  assert.equal(await d.drain(5000), true);
  const attempts = (p) => hooks.got.filter((g) => g.path === `/${p}`).length;
  assert.equal(attempts('down'), 3);
  assert.equal(attempts('flaky'), 2);
  assert.equal(attempts('gone'), 1);
  assert.deepEqual(counts.sent.map((l) => l.target), ['flaky']);
  assert.deepEqual(counts.failed.map((l) => l.target).sort(), ['down', 'gone']);
  await hooks.close();
});

test('delivery: the queue is bounded (oldest dropped and counted) and Retry-After is honoured', async () => {
  let calls = 0;
  const times = [];
  const http429 = async () => {
    times.push(Date.now());
    calls++;
    return calls === 1 ? { status: 429, retryAfter: '0.2' } : { status: 200 };
  };
  const d = new AlertDelivery({ http: http429, baseDelayMs: 1, maxAttempts: 3, concurrency: 1 });
  d.enqueue({ target: { name: 'a', url: 'http://x' }, event: 'e', request: {} });
  await d.drain(5000);
  assert.ok(times[1] - times[0] >= 190, `waited ${times[1] - times[0]} ms for Retry-After: 0.2`);
  const stuck = new AlertDelivery({ http: () => new Promise(() => {}), maxQueue: 2, concurrency: 1 });
  for (let i = 0; i < 5; i++) stuck.enqueue({ target: { name: 'a', url: 'http://x' }, event: `e${i}`, request: {} });
  assert.equal(stuck.queue.length, 2);
  assert.equal(stuck.counts.dropped, 2);
  assert.deepEqual(stuck.queue.map((m) => m.event), ['e3', 'e4']);
  stuck.close();
});

test('secrets: a webhook URL reaches no log, metric or document, even when its delivery fails', async () => {
  const hooks = await receiver({ '/services/T0QGSECRET/B0QGSECRET/xoxQGsecretPathToken99': [500] });
  const secretPath = '/services/T0QGSECRET/B0QGSECRET/xoxQGsecretPathToken99';
  const alerts = [
    { name: 'failing', url: `${hooks.url}${secretPath}?token=qs-QG-secret-777`, format: 'slack', on: ['exhausted'], min_interval_s: 0 },
    { name: 'unreachable', url: 'http://127.0.0.1:9/hooks/unreachableQGsecret55', format: 'json', on: ['exhausted'], min_interval_s: 0 },
  ];
  const gw = await startTestGateway({ fakes: { up: {} }, catalog: { day: { provider_id: 'up', package_type: 'daily', limit_per_day: 1, reset_timezone: 'UTC', models: ['*'] } }, alerts });
  try {
    gw.alerts.delivery.baseDelayMs = 5;
    gw.alerts.delivery.maxAttempts = 2;
    await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
    await gw.alerts.tick();
    await gw.alerts.delivery.drain(10000);
    assert.equal(hooks.got.length, 2, 'the failing target was tried twice');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_alerts_failed_total\{target="failing",event="exhausted"\} 1/);
    assert.match(metrics, /quotagate_alerts_failed_total\{target="unreachable",event="exhausted"\} 1/);
    const quotas = await (await fetch(`${gw.url}/api/quotas`)).text();
    const logs = gw.logs.text();
    assert.match(logs, /alert delivery failed/);
    for (const where of [logs, metrics, quotas]) {
      for (const s of ['T0QGSECRET', 'xoxQGsecretPathToken99', 'qs-QG-secret-777', 'unreachableQGsecret55']) assert.ok(!where.includes(s), `${s} leaked`);
    }
  } finally {
    await gw.stop();
    await hooks.close();
  }
});

test('quotagate alerts test sends one sample to every target and reports each; a failure sets the exit status', async () => {
  const hooks = await receiver({ '/bad': [404] });
  const dir = tmpDir();
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, [
    'providers: []',
    'alerts:',
    `  - {name: good, url: "${hooks.url}/good/SECRET-IN-PATH-123", format: discord}`,
    `  - {name: bad, url: "${hooks.url}/bad", format: ntfy}`,
  ].join('\n'));
  let out = '';
  const failed = await alertsTest({ config: file }, { write: (s) => { out += s; } });
  assert.equal(failed, 1);
  assert.match(out, /^good \(discord\): sent, HTTP 200\nbad \(ntfy\): failed, HTTP 404\n$/);
  assert.ok(!out.includes('SECRET-IN-PATH-123'));
  const sample = JSON.parse(hooks.got.find((g) => g.path.startsWith('/good')).body);
  assert.match(sample.content, /sample-package/);
  await hooks.close();
  const redactor = new Redactor([]);
  assert.equal(typeof redactor.text('x'), 'string');
});

test('docs/examples/prometheus-rules.yaml parses and names only metrics the gateway exports', async () => {
  const YAML = require('yaml');
  const rules = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'examples', 'prometheus-rules.yaml'), 'utf8'));
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => { assert.ok(r.alert && r.expr, 'every rule has a name and an expression'); return r.expr; }));
  const named = new Set(exprs.flatMap((e) => e.match(/quotagate_[a-z_]+/g)));
  const gw = await startTestGateway({ fakes: { up: {} }, catalog: { day: { provider_id: 'up', package_type: 'daily', limit_per_day: 5, reset_timezone: 'UTC', models: ['*'] } } });
  try {
    await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const exported = new Set([...metrics.matchAll(/^# TYPE (quotagate_[a-z_]+) /gm)].map((m) => m[1]));
    for (const m of named) assert.ok(exported.has(m), `${m} is not exported`);
    assert.ok(named.size >= 8);
  } finally {
    await gw.stop();
  }
});

test('delivery: a hanging or failing webhook holds up no other target (one send per target; a retry waits without a slot)', async () => {
  const sent = [];
  const http = async (url) => {
    if (url.includes('hang')) return new Promise(() => {});
    if (url.includes('fail')) return { status: 500 };
    sent.push({ url, at: Date.now() });
    return { status: 200 };
  };
  const d = new AlertDelivery({ http, baseDelayMs: 60000, maxAttempts: 5, concurrency: 2 });
  const msg = (name, event) => ({ target: { name, url: `http://x/${name}` }, event, request: {} });
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) d.enqueue(msg('hang', `h${i}`));
  for (let i = 0; i < 3; i++) d.enqueue(msg('fail', `f${i}`));
  d.enqueue(msg('ok', 'e1'));
  d.enqueue(msg('ok', 'e2'));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(sent.map((s) => s.url), ['http://x/ok', 'http://x/ok'], 'the healthy target was served at once');
  assert.ok(sent.every((s) => s.at - t0 < 100));
  assert.equal(d.sending.has('hang'), true);
  assert.ok(d.timers.size >= 1, 'the failing target waits for its retry outside the send slots');
  d.close();
});

test('a transition whose delivery failed every attempt is sent again after min_interval_s while it holds, once the webhook is back', async () => {
  const { AlertService } = require('../lib/alerts/alert-service');
  let up = false;
  const got = [];
  const http = async (url, req) => {
    if (!up) return { status: 503 };
    got.push(JSON.parse(req.body).event);
    return { status: 200 };
  };
  let now = Date.parse('2026-12-01T00:00:00Z');
  let d = doc(100, 'exhausted');
  const delivery = new AlertDelivery({ http, baseDelayMs: 1, maxAttempts: 2 });
  const svc = new AlertService({ targets: [target({ on: ['exhausted'], min_interval_s: 60, format: 'json' })], quotas: () => d, delivery, now: () => now });
  assert.equal(await svc.evaluate(), 1);
  await delivery.drain(5000);
  assert.equal(delivery.counts.failed, 1);
  up = true;
  now += 30000;
  assert.equal(await svc.evaluate(), 0, 'within min_interval_s');
  now += 31000;
  assert.equal(await svc.evaluate(), 1, 'sent again');
  await delivery.drain(5000);
  assert.deepEqual(got, ['exhausted']);
  now += 120000;
  assert.equal(await svc.evaluate(), 0, 'told now: not again');
  d = doc(0, 'ok');
  assert.equal(await svc.evaluate(), 0);
  delivery.close();
});
