// Accounts through the gateway (issue 14): a subscription provider with auth: client takes each
// caller's own credential; two tokens are two accounts with their own windows; each upstream call
// carries its caller's token and no other; a planted token appears nowhere the gateway writes; a
// family rejection (7d_oi) leaves the account's other models flowing; an exhausted account fails
// over while another caller keeps its subscription; a restart keeps every account's state.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestGateway, postJson, tmpDir } = require('./helpers');
const { fingerprint, loadAccountSecret } = require('../lib/accounts');

const ALICE = 'sk-ant-oat01-PLANTED-alice-6c1f0e9b';
const BOB = 'sk-ant-oat01-PLANTED-bob-93d2aa17';
const messages = (model) => ({ model, max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
const bearer = (token) => ({ authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01' });

const CATALOG = {
  'max-5h': { provider_id: 'claude-sub', package_type: 'rolling_window', window_hours: 5, limit_per_window: 3, models: ['claude-*'] },
};

function subscriptionGateway(dir, extra = {}, limit = 3) {
  return startTestGateway({
    dataDir: dir,
    fakes: {
      'claude-sub': { dialect: 'anthropic', auth: 'client', perCredential: true, tokens: [ALICE, BOB], limit, windowMs: 5 * 3600000,
        families: [{ family: 'oi', match: /opus/, limit: 1 }], models: ['claude-*'] },
      fallback: { dialect: 'openai', models: ['*'] },
    },
    catalog: { 'max-5h': { ...CATALOG['max-5h'], limit_per_window: limit } },
    ...extra,
  });
}

async function quotasOf(gw) {
  return (await (await fetch(`${gw.url}/api/quotas`)).json()).packages.filter((p) => p.provider_id === 'claude-sub');
}

test('two tokens are two accounts; each upstream call carries its own caller\'s token; a planted token is written nowhere', async () => {
  const dir = tmpDir();
  const gw = await subscriptionGateway(dir, {}, 20);
  const seen = [];
  const keep = (r) => seen.push(JSON.stringify([...r.headers]), r.text);
  try {
    const url = `${gw.url}/v1/messages`;
    for (const [token, n] of [[ALICE, 2], [BOB, 1]]) {
      for (let i = 0; i < n; i++) {
        const r = await postJson(url, messages('claude-sonnet-4-5'), bearer(token));
        keep(r);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers.get('x-quotagate-provider'), 'claude-sub');
      }
    }
    const fake = gw.fakes['claude-sub'];
    assert.deepEqual(fake.credentials, [ALICE, ALICE, BOB], 'each call carried its caller\'s own token');
    assert.equal(gw.fakes.fallback.received, 0);
    const secret = loadAccountSecret(path.join(dir, 'ledger'));
    const [fa, fb] = [fingerprint(secret, ALICE), fingerprint(secret, BOB)];
    const q = await quotasOf(gw);
    const used = Object.fromEntries(q.map((p) => [p.account, p.used]));
    assert.deepEqual(Object.keys(used).sort(), [fa, fb].sort());
    assert.ok(used[fa] > used[fb], `alice used more than bob: ${JSON.stringify(used)}`);
    // A streamed answer, an upstream that echoes the credential, the documents and the metrics.
    keep(await postJson(url, { ...messages('claude-sonnet-4-5'), stream: true }, bearer(ALICE)));
    fake.mode = 'echo-key-400';
    const echoed = await postJson(url, messages('claude-sonnet-4-5'), bearer(ALICE));
    keep(echoed);
    assert.equal(echoed.status, 400);
    assert.match(echoed.text, /\[redacted\]/);
    fake.mode = 'ok';
    for (const p of ['/api/quotas', '/api/state', '/metrics', '/health']) {
      const res = await fetch(`${gw.url}${p}`);
      keep({ headers: res.headers, text: await res.text() });
    }
    // The ledger event names the account by fingerprint.
    await new Promise((resolve) => setTimeout(resolve, 400));  // a checkpoint
  } finally {
    await gw.stop();
  }
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name)));
  };
  walk(dir);
  assert.ok(files.some((f) => f.endsWith('readings.json')), 'readings were persisted');
  const written = files.map((f) => fs.readFileSync(f));
  for (const token of [ALICE, BOB]) {
    for (const text of [...seen, gw.logs.text()]) assert.ok(!text.includes(token), `${token.slice(0, 20)}... appeared in a response or log line`);
    for (let i = 0; i < files.length; i++) assert.equal(written[i].indexOf(token), -1, `${token.slice(0, 20)}... appeared in ${files[i]}`);
  }
  const journal = fs.readFileSync(path.join(dir, 'ledger', 'journal.jsonl'), 'utf8');
  const segments = files.filter((f) => f.endsWith('.sqlite')).map((f) => fs.readFileSync(f).toString('latin1')).join('');
  const secret = loadAccountSecret(path.join(dir, 'ledger'));
  assert.ok((journal + segments).includes(fingerprint(secret, ALICE)), 'events carry the account fingerprint');
});

test('a 7d_oi rejection leaves Sonnet flowing; an exhausted account fails over while another caller keeps its subscription; a restart keeps it all', async () => {
  const dir = tmpDir();
  let gw = await subscriptionGateway(dir);
  const url = () => `${gw.url}/v1/messages`;
  try {
    // Opus: the first is served; the second meets the weekly oi limit and fails over (before the first byte).
    assert.equal((await postJson(url(), messages('claude-opus-4-8'), bearer(ALICE))).headers.get('x-quotagate-provider'), 'claude-sub');
    const second = await postJson(url(), messages('claude-opus-4-8'), bearer(ALICE));
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-quotagate-provider'), 'fallback');
    const before = gw.fakes['claude-sub'].received;
    const third = await postJson(url(), messages('claude-opus-4-8'), bearer(ALICE));
    assert.equal(third.headers.get('x-quotagate-provider'), 'fallback');
    assert.equal(gw.fakes['claude-sub'].received, before, 'the cooled family is not asked again');
    // Sonnet on the same account still goes to the subscription (twice: her 5 h window is 3).
    for (let i = 0; i < 2; i++) {
      const sonnet = await postJson(url(), messages('claude-sonnet-4-5'), bearer(ALICE));
      assert.equal(sonnet.headers.get('x-quotagate-provider'), 'claude-sub');
    }
    // Alice's 5 h window (3) is now spent: her next request fails over; Bob's goes to his own.
    const spent = await postJson(url(), messages('claude-sonnet-4-5'), bearer(ALICE));
    assert.equal(spent.headers.get('x-quotagate-provider'), 'fallback', spent.text);
    const bob = await postJson(url(), messages('claude-sonnet-4-5'), bearer(BOB));
    assert.equal(bob.headers.get('x-quotagate-provider'), 'claude-sub');
    // A request without a credential never reaches the subscription.
    const anonymous = await postJson(url(), messages('claude-sonnet-4-5'), { 'anthropic-version': '2023-06-01' });
    assert.equal(anonymous.headers.get('x-quotagate-provider'), 'fallback');
  } finally {
    await gw.close();
  }
  const fakes = gw.fakes;
  const received = fakes['claude-sub'].received;
  // Restart on the same data dir (the fakes keep their state): accounts, their usage, the family
  // cooldown and the spent window are all known before any upstream answers again.
  gw = await startAgain(dir, gw);
  try {
    const q = await quotasOf(gw);
    assert.equal(q.length, 2, JSON.stringify(q));
    const alice = q.find((p) => p.used >= 3);
    assert.ok(alice, `alice's spent window survived: ${JSON.stringify(q.map((p) => [p.account, p.used]))}`);
    assert.equal(alice.alert, 'exhausted');
    assert.ok(alice.model_windows && alice.model_windows.some((w) => w.family === 'oi' && w.exhausted), JSON.stringify(alice.model_windows));
    // Bob first: once the fallback has a measured latency the point router prefers it over an
    // unmeasured subscription (the routing-plan issue replaces those points).
    const bob = await postJson(url(), messages('claude-sonnet-4-5'), bearer(BOB));
    assert.equal(bob.headers.get('x-quotagate-provider'), 'claude-sub');
    const opus = await postJson(url(), messages('claude-opus-4-8'), bearer(ALICE));
    assert.equal(opus.headers.get('x-quotagate-provider'), 'fallback');
    assert.equal(fakes['claude-sub'].received, received + 1, 'only Bob\'s request reached the subscription');
  } finally {
    await gw.close();
    await Promise.all(Object.values(fakes).map((f) => f.close()));
  }
});

// The same config and data dir, the same fake upstreams.
async function startAgain(dir, old) {
  const { startGateway } = require('../lib/serve');
  const { LogCapture } = require('./helpers');
  const logs = new LogCapture();
  const gw = await startGateway({ config: old.config, logStream: logs });
  return { ...gw, fakes: old.fakes, logs, config: old.config };
}

test('with gateway client keys, x-quotagate-key carries the gateway key and Authorization the caller\'s own', async () => {
  const GATEWAY_KEY = 'qg-client-key-4d1e99aa';
  const gw = await subscriptionGateway(tmpDir(), { server: { client_keys: [GATEWAY_KEY] } });
  try {
    const url = `${gw.url}/v1/messages`;
    const own = await postJson(url, messages('claude-sonnet-4-5'), { ...bearer(ALICE), 'x-quotagate-key': GATEWAY_KEY });
    assert.equal(own.headers.get('x-quotagate-provider'), 'claude-sub');
    assert.deepEqual(gw.fakes['claude-sub'].credentials, [ALICE]);
    // The gateway key in Authorization: accepted, and nothing of it is forwarded.
    const gatewayOnly = await postJson(url, messages('claude-sonnet-4-5'), bearer(GATEWAY_KEY));
    assert.equal(gatewayOnly.status, 200);
    assert.equal(gatewayOnly.headers.get('x-quotagate-provider'), 'fallback');
    assert.deepEqual(gw.fakes['claude-sub'].credentials, [ALICE]);
    const wrong = await postJson(url, messages('claude-sonnet-4-5'), { ...bearer(ALICE), 'x-quotagate-key': 'nope' });
    assert.equal(wrong.status, 401);
  } finally {
    await gw.stop();
  }
});

test('an expired login is answered 401 in the client\'s format when no other provider serves the model', async () => {
  const gw = await startTestGateway({
    fakes: { 'claude-sub': { dialect: 'anthropic', auth: 'client', perCredential: true, tokens: [ALICE], models: ['claude-*'] } },
    catalog: CATALOG,
  });
  try {
    const r = await postJson(`${gw.url}/v1/messages`, messages('claude-sonnet-4-5'), bearer(BOB));
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'authentication_error');
    assert.ok(!r.text.includes(BOB));
  } finally {
    await gw.stop();
  }
});

test('auth: key accounts: a 429 on one account fails over to the next account of the same provider', async () => {
  const gw = await startTestGateway({
    fakes: { gem: { dialect: 'openai', models: ['*'], accounts: [{ name: 'work', api_key: 'sk-work-PLANTED-1111' }, { name: 'home', api_key: 'sk-home-PLANTED-2222' }] } },
    catalog: { daily: { provider_id: 'gem', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
  });
  try {
    const fake = gw.fakes.gem;
    const seenKeys = [];
    const origHandle = fake.handle.bind(fake);
    fake.handle = (req, res) => {
      seenKeys.push(req.headers.authorization);
      if (req.headers.authorization === 'Bearer sk-work-PLANTED-1111') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
        return res.end('{"error":{"message":"quota","type":"rate_limit"}}');
      }
      return origHandle(req, res);
    };
    const chatBody = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-account'), 'home');
    assert.deepEqual(seenKeys, ['Bearer sk-work-PLANTED-1111', 'Bearer sk-home-PLANTED-2222']);
    const again = await postJson(`${gw.url}/v1/chat/completions`, chatBody);
    assert.equal(again.headers.get('x-quotagate-account'), 'home');
    assert.equal(seenKeys.length, 3, 'the cooling account is not asked again');
    const q = (await (await fetch(`${gw.url}/api/quotas`)).json());
    assert.deepEqual(q.packages.map((p) => p.account).sort(), ['home', 'work']);
    assert.ok(!JSON.stringify(q).includes('PLANTED') && !gw.logs.text().includes('PLANTED'));
  } finally {
    await gw.stop();
  }
});

test('count_tokens reaches an auth: client provider with the caller\'s own credential', async () => {
  const gw = await subscriptionGateway(tmpDir(), {}, 20);
  try {
    const r = await postJson(`${gw.url}/v1/messages/count_tokens`, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }, bearer(ALICE));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-provider'), 'claude-sub');
    assert.equal(gw.fakes['claude-sub'].lastRequest.headers.authorization, `Bearer ${ALICE}`);
    const anonymous = await postJson(`${gw.url}/v1/messages/count_tokens`, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.headers.get('x-quotagate-provider'), null, 'no credential: the estimate, not someone else\'s login');
  } finally {
    await gw.stop();
  }
});

test('a caller\'s credential is redacted in its own answers only: short or JSON-like "credentials" cannot mangle other callers\' answers', async () => {
  const gw = await subscriptionGateway(tmpDir(), {}, 50);
  try {
    const url = `${gw.url}/v1/messages`;
    for (const junk of ['data', 'type', 'content', '":{"', 'message_start']) {
      await postJson(url, messages('claude-sonnet-4-5'), { authorization: `Bearer ${junk}`, 'anthropic-version': '2023-06-01' });
      await postJson(url, messages('claude-sonnet-4-5'), { 'x-api-key': junk, 'anthropic-version': '2023-06-01' });
    }
    const whole = await postJson(url, messages('claude-sonnet-4-5'), bearer(ALICE));
    assert.equal(whole.status, 200);
    assert.equal(whole.json.type, 'message', whole.text);
    assert.ok(!whole.text.includes('[redacted]'), whole.text);
    const streamed = await postJson(url, { ...messages('claude-sonnet-4-5'), stream: true }, bearer(BOB));
    assert.match(streamed.text, /event: message_start\ndata: \{"type":"message_start"/);
    assert.ok(!streamed.text.includes('[redacted]'));
  } finally {
    await gw.stop();
  }
});

test('refused logins do not accumulate as accounts; a request without a login for a login-only model gets 401', async () => {
  const gw = await startTestGateway({
    fakes: { 'claude-sub': { dialect: 'anthropic', auth: 'client', perCredential: true, tokens: [ALICE], models: ['claude-*'] },
      other: { dialect: 'openai', models: ['gpt-*'] } },
    catalog: CATALOG,
  });
  try {
    const url = `${gw.url}/v1/messages`;
    for (let i = 0; i < 5; i++) {
      const r = await postJson(url, messages('claude-sonnet-4-5'), bearer(`sk-ant-junk-token-${i}-0000000000`));
      assert.equal(r.status, 401);
    }
    assert.equal((await quotasOf(gw)).length, 0, 'no state for refused logins');
    const ok = await postJson(url, messages('claude-sonnet-4-5'), bearer(ALICE));
    assert.equal(ok.status, 200);
    assert.equal((await quotasOf(gw)).length, 1);
    const none = await postJson(url, messages('claude-sonnet-4-5'), { 'anthropic-version': '2023-06-01' });
    assert.equal(none.status, 401, none.text);
    assert.match(none.json.error.message, /your own login/);
  } finally {
    await gw.stop();
  }
});

test('auth: key accounts: five refused accounts still leave the fallback provider its turn', async () => {
  const accounts = Array.from({ length: 5 }, (_, i) => ({ name: `k${i}`, api_key: `sk-key-${i}-PLANTED-aaaa` }));
  const gw = await startTestGateway({
    fakes: { gem: { dialect: 'openai', models: ['*'], accounts }, fallback: { dialect: 'openai', models: ['*'] } },
    catalog: { daily: { provider_id: 'gem', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
  });
  try {
    gw.fakes.gem.mode = '429';
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-provider'), 'fallback');
    assert.equal(gw.fakes.gem.received, 5, 'each account was tried once');
  } finally {
    await gw.stop();
  }
});

test('codex.rate_limits events inside a Responses stream update the account\'s windows, told apart by length', async () => {
  const http = require('node:http');
  const { codexRateLimitLines } = require('../lib/codex-rate-limits');
  assert.equal(codexRateLimitLines({ type: 'response.created' }), '');
  assert.equal(codexRateLimitLines({ type: 'codex.rate_limits', rate_limits: { primary: { used_percent: 'NaN' } } }), '');
  // The Codex backend's stream: a codex.rate_limits event, then the answer. Its "primary" is the
  // weekly window here (10080 minutes): it must land on the 7-day window, not the 5 h one.
  const sse = (type, obj) => `event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`;
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const response = { id: 'resp_1', object: 'response', model: 'gpt-5-codex', status: 'completed', output: [], usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } };
      res.end(sse('response.created', { response: { ...response, status: 'in_progress' } }) +
        sse('codex.rate_limits', { rate_limits: { primary: { used_percent: 40, window_minutes: 10080, resets_in_seconds: 86400 },
          secondary: { used_percent: 70, window_minutes: 300, resets_at: Math.floor(Date.now() / 1000) + 3600 } },
        credits: { has_credits: true, unlimited: false, balance: '5.39' } }) +
        sse('response.completed', { response }));
    });
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => upstream.once('listening', resolve));
  const TOKEN = 'codex-PLANTED-login-5b6c7d8e';
  const gw = await startTestGateway({
    extraProviders: [{ name: 'codex', backend: 'openai-responses', base_url: `http://127.0.0.1:${upstream.address().port}/v1`, auth: 'client', models: ['gpt-5*'] }],
    catalog: { plus: { provider_id: 'codex', package_type: 'rolling_window', window_hours: 5, limit_per_window: 100, models: ['gpt-5*'],
      secondary_windows: [{ name: 'weekly', window_hours: 168, limit: 1000 }] } },
  });
  try {
    const r = await postJson(`${gw.url}/v1/responses`, { model: 'gpt-5-codex', input: 'hi', stream: true }, { authorization: `Bearer ${TOKEN}` });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /codex\.rate_limits/, 'the event reaches Codex CLI as it came');
    const q = (await (await fetch(`${gw.url}/api/quotas`)).json()).packages[0];
    assert.match(q.account, /^[0-9a-f]{12}$/);
    assert.ok(Math.abs(q.used - 70) < 1e-6, `5 h window from the 300-minute reading: ${q.used}`);
    assert.ok(Math.abs(q.secondary_windows[0].used - 400) < 1e-6, `weekly from the 10080-minute reading: ${q.secondary_windows[0].used}`);
    assert.equal(q.overage.available, true);
    assert.equal(q.overage.credits_balance, 5.39);
  } finally {
    await gw.stop();
    upstream.close();
  }
});

test('a stranger\'s refused login removes nobody else; refused logins leave no state, reading or account after a restart', async () => {
  const dir = tmpDir();
  let gw = await subscriptionGateway(dir, {}, 20);
  const url = () => `${gw.url}/v1/messages`;
  const fake = gw.fakes['claude-sub'];
  try {
    // Bob's first call meets a 500: his account exists but has served nothing yet.
    fake.mode = '500';
    await postJson(url(), messages('claude-sonnet-4-5'), bearer(BOB));
    fake.mode = 'ok';
    for (let i = 0; i < 20; i++) {
      await postJson(url(), messages('claude-sonnet-4-5'), bearer(`sk-ant-junk-${i}-00000000`));
      await postJson(`${url()}/count_tokens`, messages('claude-sonnet-4-5'), bearer(`sk-ant-junk-ct-${i}-00000000`));
    }
    const bob = await postJson(url(), messages('claude-sonnet-4-5'), bearer(BOB));
    assert.equal(bob.headers.get('x-quotagate-provider'), 'claude-sub', 'Bob keeps his own subscription');
    assert.equal((await quotasOf(gw)).length, 1);
  } finally {
    await gw.close();
  }
  const fakes = gw.fakes;
  gw = await startAgain(dir, gw);
  try {
    assert.equal((await quotasOf(gw)).length, 1, 'no refused login came back from the ledger or the readings');
    const readings = JSON.parse(fs.readFileSync(path.join(dir, 'ledger', 'readings.json'), 'utf8')).readings;
    assert.ok(readings.every((r) => r.status !== 401 && r.status !== 403));
  } finally {
    await gw.close();
    await Promise.all(Object.values(fakes).map((f) => f.close()));
  }
});
