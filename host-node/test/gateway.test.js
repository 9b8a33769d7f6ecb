// The gateway end to end against local fake upstreams: endpoints, streaming with usage counted,
// failover, capacity exhaustion with Retry-After, bad input, client keys and admin auth.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startTestGateway, postJson, chat } = require('./helpers');

// A loopback port with nothing listening (bound, then released).
async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const DAILY = (provider, limit, models) => ({ provider_id: provider, package_type: 'daily', limit_per_day: limit, models });

test('chat completions, non-streaming and streaming, count usage into the ledger and quotas', async () => {
  // Checkpoints held off, so the three events are still in the journal to inspect.
  const gw = await startTestGateway({ fakes: { alpha: {} }, catalog: { 'alpha-daily': DAILY('alpha', 100, ['*']) }, ledger: { checkpoint_interval_s: 600 } });
  try {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-x'));
    assert.equal(r.status, 200);
    assert.equal(r.json.choices[0].message.content, 'Hello from alpha.');
    assert.equal(r.headers.get('x-quotagate-provider'), 'alpha');
    assert.equal(gw.fakes.alpha.lastRequest.headers.authorization, 'Bearer sk-test-alpha-0000');

    // Streaming, client did not ask for usage: we ask upstream anyway and strip the usage chunk.
    const s = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-x', { stream: true }));
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type'), /text\/event-stream/);
    assert.deepEqual(gw.fakes.alpha.lastRequest.body.stream_options, { include_usage: true });
    assert.doesNotMatch(s.text, /"usage"/);
    assert.match(s.text, /data: \[DONE\]/);
    // Streaming, client asked for usage: it gets the chunk.
    const su = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-x', { stream: true, stream_options: { include_usage: true } }));
    assert.match(su.text, /"usage":\{"prompt_tokens":12,"completion_tokens":7/);

    const q = (await (await fetch(`${gw.url}/api/quotas`)).json());
    const pkg = q.packages.find((p) => p.package_id === 'alpha-daily');
    assert.equal(pkg.used, 3, 'all three requests counted, streamed ones included');
    assert.equal(q.header_snapshots.alpha.dialect, 'openai');
    assert.ok(q.header_snapshots.alpha.observed_at);
    assert.equal(q.demo, false);
    const journal = fs.readFileSync(path.join(gw.dir, 'ledger', 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const events = journal.filter((e) => e.provider_id === 'alpha');
    assert.equal(events.length, 3);
    for (const e of events) assert.deepEqual([e.tokens_in, e.tokens_out], [12, 7], 'streamed usage is counted');
    assert.ok(Math.abs(events[0].cost - (12 * 1 + 7 * 2) / 1e6) < 1e-12, 'cost = tokens x configured price');
  } finally {
    await gw.stop();
  }
});

test('anthropic /v1/messages, non-streaming and streaming, with unified headers captured', async () => {
  const gw = await startTestGateway({
    fakes: { claude: { dialect: 'anthropic', limit: 10, windowMs: 5 * 3600000 } },
    catalog: { 'claude-5h': { provider_id: 'claude', package_type: 'rolling_window', window_hours: 5, limit_per_window: 10, models: ['claude-*'] } },
  });
  try {
    const r = await postJson(`${gw.url}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content[0].text, 'Hello from claude.');
    assert.equal(gw.fakes.claude.lastRequest.headers['x-api-key'], 'sk-test-claude-0000');
    const s = await postJson(`${gw.url}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [] });
    assert.match(s.text, /event: message_stop/);
    const q = await (await fetch(`${gw.url}/api/quotas`)).json();
    const pkg = q.packages.find((p) => p.package_id === 'claude-5h');
    assert.equal(pkg.used, 2, '2 of 10 reported by the 5h utilization header');
    assert.equal(pkg.confidence, 'high');
    assert.equal(q.header_snapshots.claude.dialect, 'anthropic-unified');
  } finally {
    await gw.stop();
  }
});

test('models, health, dry-run route, state and metrics', async () => {
  const gw = await startTestGateway({ fakes: { alpha: { models: ['m-1', 'm-2'] } }, catalog: { a: DAILY('alpha', 5, ['m-1', 'm-2']) } });
  try {
    const models = await (await fetch(`${gw.url}/v1/models`)).json();
    assert.deepEqual(models.data.map((m) => m.id), ['auto', 'm-1', 'm-2']);
    assert.equal((await (await fetch(`${gw.url}/health`)).json()).status, 'ok');
    const before = gw.fakes.alpha.received;
    const route = await postJson(`${gw.url}/api/route`, { model: 'm-2' });
    assert.equal(route.json.provider, 'alpha');
    assert.equal(route.json.ranked[0].terms.healthy, 1);
    assert.equal(route.json.ranked[0].terms.cost_usd, 0);  // a free daily quota
    assert.equal(gw.fakes.alpha.received, before, 'a dry run never calls upstream');
    const state = await (await fetch(`${gw.url}/api/state`)).json();
    assert.equal(state.state.catalog.packages.a.limit_per_day, 5);
    await postJson(`${gw.url}/v1/chat/completions`, chat('m-1'));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_requests_total\{endpoint="chat",provider="alpha",status="200"\} 1/);
    assert.match(metrics, /quotagate_package_remaining\{package="a",provider="alpha",unit="requests",account=""\} 4/);
    assert.match(metrics, /quotagate_upstream_latency_seconds_bucket/);
  } finally {
    await gw.stop();
  }
});

test('failover on 429, 500, timeout and connection refused; the client gets the first good answer', async () => {
  const gw = await startTestGateway({
    fakes: { first: { timeout_ms: 300 }, second: {} },
    catalog: { one: DAILY('first', 1000, ['*']), two: DAILY('second', 1000, ['*']) },
    routing: { weights: { latency_band_ms: [250, 750, 1500, 3000] } },
  });
  try {
    for (const mode of ['500', 'slow', '429']) {  // 429 last: it leaves 'first' cooling down
      gw.fakes.first.mode = mode;
      const r = await postJson(`${gw.url}/v1/chat/completions`, chat('x'));
      assert.equal(r.status, 200, `${mode}: ${r.text}`);
      assert.equal(r.json.choices[0].message.content, 'Hello from second.', mode);
      gw.fakes.first.mode = 'ok';
      gw.engine.observe('first', '', '', 200, '', '', 1, Date.now() + 120000);  // clear health for the next case
    }
    const log = gw.logs.text();
    assert.match(log, /"attempts":\[\{"provider":"first","package":"one","status":429,"reason":"HTTP 429"\},\{"provider":"second"/);
    assert.match(log, /"attempts":\[\{"provider":"first","package":"one","status":500,"reason":"HTTP 500"\},\{"provider":"second"/);
    assert.match(log, /"attempts":\[\{"provider":"first","package":"one","status":0,"reason":"timeout"\},\{"provider":"second"/);
  } finally {
    await gw.stop();
  }
  const gw2 = await startTestGateway({
    fakes: { live: {} },
    extraProviders: [{ name: 'dead', backend: 'openai-compat', base_url: `http://127.0.0.1:${await closedPort()}/v1`, api_key: 'sk-dead-0000', models: ['*'], timeout_ms: 1000, price: { input_per_1m: 0, output_per_1m: 0 } }],
    catalog: { d: DAILY('dead', 1000, ['*']), l: DAILY('live', 1000, ['*']) },
    extraFirst: true,
  });
  try {
    const r = await postJson(`${gw2.url}/v1/chat/completions`, chat('x'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-provider'), 'live');
    assert.match(gw2.logs.text(), /"provider":"dead","package":"d","status":0,"reason":"ECONNREFUSED"/);
  } finally {
    await gw2.stop();
  }
});

test('every candidate exhausted or cooling down: 429 with Retry-After from the earliest reset', async () => {
  const gw = await startTestGateway({
    fakes: { a: { limit: 1 }, b: {} },
    catalog: { pa: DAILY('a', 1, ['*']), pb: { provider_id: 'b', package_type: 'rolling_window', window_hours: 1, limit_per_window: 1, models: ['*'] } },
  });
  try {
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('x'))).status, 200);
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('x'))).status, 200);
    const sentAt = Date.now();
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('x'));
    assert.equal(r.status, 429, r.text);
    const retry = Number(r.headers.get('retry-after'));
    // The earliest reset: pb's 1-hour window, or pa's daily quota at the next UTC midnight when that
    // comes first (this test also runs in the last hour of the day).
    const midnight = Math.ceil((sentAt + 1) / 86400000) * 86400000;
    const expected = Math.min(3600, Math.ceil((midnight - sentAt) / 1000));
    assert.ok(retry > expected - 100 && retry <= expected + 1, `retry-after ${retry}, expected about ${expected} (the earlier of the 1-hour window and UTC midnight)`);
    assert.equal(r.json.error.code, 'quota_exhausted');
    assert.equal(r.json.error.type, 'rate_limit_error');
  } finally {
    await gw.stop();
  }
});

test('bad input: malformed JSON, wrong types, CR/LF in model, huge body, unknown model', async () => {
  const gw = await startTestGateway({ fakes: { alpha: { models: ['known-model'] } }, catalog: { a: DAILY('alpha', 10, ['known-model']) }, server: { body_limit: '64kb' } });
  try {
    const url = `${gw.url}/v1/chat/completions`;
    const bad = await postJson(url, '{"model": "x", ');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'invalid_json');
    assert.equal((await postJson(url, { model: 5, messages: [] })).status, 400);
    assert.equal((await postJson(url, { model: 'x', messages: 'hi' })).status, 400);
    assert.equal((await postJson(url, { model: 'x\r\nX-Injected: 1', messages: [] })).status, 400);
    const huge = await postJson(url, { model: 'x', messages: [{ role: 'user', content: 'a'.repeat(100 * 1024) }] });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.error.code, 'request_too_large');
    const unknown = await postJson(url, chat('gpt-99'));
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /unknown model "gpt-99"; available: auto, known-model/);
    const anthropicShape = await postJson(`${gw.url}/v1/messages`, '{oops');
    assert.equal(anthropicShape.json.type, 'error');
    assert.equal(anthropicShape.json.error.type, 'invalid_request_error');
    assert.equal((await fetch(`${gw.url}/health`)).status, 200, 'still healthy afterwards');
  } finally {
    await gw.stop();
  }
});

test('the plain body reader and body-parser give every body the same outcome', async () => {
  const gw = await startTestGateway({ fakes: { alpha: { models: ['known-model'] } }, catalog: { a: DAILY('alpha', 1e6, ['known-model']) }, server: { body_limit: '64kb' } });
  const http = require('node:http');
  // Raw requests, so that the body's bytes, charset and framing are exactly as given. The plain
  // reader takes /v1/chat/completions with a Content-Length; the same body sent chunked, or to
  // the trailing-slash spelling (express), goes through body-parser.
  const send = (path, bytes, { type = 'application/json', chunked = false } = {}) => new Promise((resolve, reject) => {
    const headers = { 'content-type': type, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': bytes.length }) };
    const req = http.request(`${gw.url}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        const json = JSON.parse(text);
        resolve({ status: res.statusCode, code: json.error ? json.error.code : null, message: json.error ? json.error.message : null, model: json.model ?? null });
      });
    });
    req.on('error', reject);
    if (chunked) {
      req.write(bytes.subarray(0, 1));
      req.end(bytes.subarray(1));
    } else req.end(bytes);
  });
  const ok = JSON.stringify(chat('known-model'));
  const cases = {
    plain: [Buffer.from(ok)],
    bom: [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ok)])],
    'charset=utf-8': [Buffer.from(ok), 'application/json; charset=UTF-8'],
    'charset="utf-8"': [Buffer.from(ok), 'application/json; charset="utf-8"'],
    // body-parser refuses these (415); the plain reader must not take them.
    'charset=utf8': [Buffer.from(ok), 'application/json; charset=utf8'],
    'two charsets': [Buffer.from(ok), 'application/json; charset=latin1; charset=utf-8'],
    'charset in a quoted parameter': [Buffer.from(ok), 'application/json; charset=latin1; foo="; charset=utf-8"'],
    'no content type': [Buffer.from(ok), 'text/plain'],
    empty: [Buffer.alloc(0)],
    malformed: [Buffer.from('{"model": "x", ')],
    'a JSON string': [Buffer.from('"hi"')],
    'an array': [Buffer.from('[1,2]')],
    'nested 65 deep': [Buffer.from(`{"model":"known-model","messages":[],"x":${'['.repeat(64)}${']'.repeat(64)}}`)],
    'multibyte across chunks': [Buffer.from(JSON.stringify({ model: 'known-model', messages: [{ role: 'user', content: 'é'.repeat(20000) }] }))],
    'invalid UTF-8': [Buffer.concat([Buffer.from('{"model":"known-model","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')])],
  };
  try {
    for (const [name, [bytes, type]] of Object.entries(cases)) {
      const plain = await send('/v1/chat/completions', bytes, { type });
      const chunked = await send('/v1/chat/completions', bytes, { type, chunked: true });
      const viaExpress = await send('/v1/chat/completions/', bytes, { type });
      assert.deepEqual(plain, viaExpress, `${name}: plain reader vs body-parser (express)`);
      assert.deepEqual(plain, chunked, `${name}: plain reader vs body-parser (chunked)`);
    }
    assert.equal((await send('/v1/chat/completions', Buffer.from(ok))).status, 200);
    assert.equal((await send('/v1/chat/completions', Buffer.from('{oops'))).code, 'invalid_json');
    assert.equal((await send('/v1/chat/completions', cases['nested 65 deep'][0])).status, 400);
    assert.equal((await send('/v1/chat/completions', Buffer.from(ok), { type: 'application/json; charset=utf8' })).status, 415);
    // A body that cannot be read is the client's error on both readers, never a 500: a gzip body
    // that does not inflate, and a client that leaves before its body is complete.
    const gzipReq = await new Promise((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': 7 } }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end('notgzip');
    });
    assert.equal(gzipReq.status, 400);
    assert.equal(gzipReq.json.error.code, 'invalid_request');
    for (const path of ['/v1/chat/completions', '/v1/chat/completions/']) {
      await new Promise((resolve) => {
        const req = http.request(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 500 } });
        req.on('error', () => {});
        req.write('{"model":"known-model",');
        setTimeout(() => { req.destroy(); resolve(); }, 100);
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    const refused = gw.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.code === 'request_aborted');
    assert.equal(refused.length, 2, 'both readers log the abort as the client\'s');
    assert.ok(refused.every((l) => l.status === 400 && l.level === 30));
    assert.doesNotMatch(gw.logs.text(), /unhandled error/);
  } finally {
    await gw.stop();
  }
});

test('client keys are required when configured; admin token guards /api and /metrics', async () => {
  const gw = await startTestGateway({ fakes: { alpha: {} }, catalog: { a: DAILY('alpha', 10, ['*']) }, server: { client_keys: ['ck-one-1111', 'ck-two-2222'], admin_token: 'adm-secret-3333' } });
  try {
    const url = `${gw.url}/v1/chat/completions`;
    assert.equal((await postJson(url, chat('x'))).status, 401);
    assert.equal((await postJson(url, chat('x'), { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await postJson(url, chat('x'), { authorization: 'Bearer ck-two-2222' })).status, 200);
    assert.equal((await postJson(url, chat('x'), { 'x-api-key': 'ck-one-1111' })).status, 200);
    for (const p of ['/api/quotas', '/api/state', '/metrics']) {
      assert.equal((await fetch(`${gw.url}${p}`)).status, 401, p);
      assert.equal((await fetch(`${gw.url}${p}`, { headers: { authorization: 'Bearer adm-secret-3333' } })).status, 200, p);
    }
    assert.equal((await postJson(`${gw.url}/api/route`, { model: 'x' })).status, 401);
  } finally {
    await gw.stop();
  }
});

test('client keys are compared in constant time against every configured key', () => {
  const crypto = require('node:crypto');
  const { keyMatches } = require('../lib/gateway');
  const digests = ['k-one', 'k-two', 'k-three'].map((k) => crypto.createHash('sha256').update(k).digest());
  const original = crypto.timingSafeEqual;
  let calls = 0;
  crypto.timingSafeEqual = (a, b) => {
    calls++;
    assert.equal(a.length, b.length, 'equal-length digests, never the raw keys');
    return original(a, b);
  };
  try {
    assert.equal(keyMatches('k-one', digests), true);
    assert.equal(calls, 3, 'no early exit on the first match');
    calls = 0;
    assert.equal(keyMatches('nope', digests), false);
    assert.equal(calls, 3);
    assert.equal(keyMatches('', digests), false);
  } finally {
    crypto.timingSafeEqual = original;
  }
});

// The proxy endpoints have a fast path outside express for their exact spelling; every other
// spelling goes through express. Both must answer alike, successes and errors.
test('fast path and express path answer alike (exact path, query string, trailing slash, upper case)', async () => {
  const gw = await startTestGateway({ fakes: { alpha: { models: ['known-model'] } }, catalog: { a: DAILY('alpha', 100, ['known-model']) },
    server: { body_limit: '64kb', client_keys: ['ck-fast-path-test'] } });
  const auth = { authorization: 'Bearer ck-fast-path-test' };
  const strip = (r) => ({ status: r.status, type: r.headers.get('content-type'), retry: r.headers.get('retry-after'), body: r.json && (r.json.error ? r.json.error : { content: r.json.choices ? r.json.choices[0].message.content : r.json.content[0].text }) });
  try {
    for (const [path, anthropic] of [['/v1/chat/completions', false], ['/v1/messages', true]]) {
      const spellings = [path, `${path}?trace=1`, `${path}/`, path.toUpperCase()];
      const cases = [
        [chat('known-model', anthropic ? { max_tokens: 10 } : {}), auth],
        ['{"model": "x", ', auth],
        [chat('known-model'), {}],
        [{ model: 'known-model', messages: [{ role: 'user', content: 'a'.repeat(100 * 1024) }] }, auth],
        [chat('no-such-model'), auth],
      ];
      for (const [body, headers] of cases) {
        const answers = [];
        for (const p of spellings) answers.push(strip(await postJson(`${gw.url}${p}`, body, headers)));
        for (const a of answers.slice(1)) assert.deepEqual(a, answers[0], `${path}: ${JSON.stringify(answers[0])}`);
      }
    }
  } finally {
    await gw.stop();
  }
});
