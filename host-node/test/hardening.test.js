// Issue 12 against a running gateway: odd upstream answers (usage values, redirects, huge SSE
// events, absurd retry-after), a journal that cannot be written while streaming, clients that
// leave before the end, and the request guard (Host, Origin, content type, cookies, header values).
// Each input is a case that failed before; each assertion is the value it must give now.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startTestGateway, postJson, chat } = require('./helpers');
const { LedgerStore } = require('../lib/ledger-store');

// A one-handler upstream on loopback. handler(req, body, res).
async function rawUpstream(handler) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => handler(req, body ? JSON.parse(body) : null, res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(resolve);
    }),
  };
}

// A request exactly as written (node:http: no header normalisation, any Host, any body).
function rawRequest(port, method, p, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const provider = (name, url, extra = {}) => ({ name, backend: 'openai-compat', base_url: `${url}/v1`, api_key: `sk-${name}-key-000000`,
  models: ['*'], timeout_ms: 5000, price: { input_per_1m: 1e6, output_per_1m: 1e6 }, ...extra });
const completion = (usage) => ({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage });
const sendJson = (res, status, doc, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(doc));
};
const sseChunk = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
const ledgerLines = (gw) => {
  const file = path.join(gw.dir, 'ledger', 'journal.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
};
// Every event in a stopped gateway's ledger, as a restart reads it.
async function storedEvents(gw) {
  const store = new LedgerStore({ dir: path.join(gw.dir, 'ledger') });
  const events = await store.open();
  store.close();
  return events;
}
const quotas = async (gw) => (await fetch(`${gw.url}/api/quotas`)).json();
const pkgOf = async (gw, id) => (await quotas(gw)).packages.find((p) => p.package_id === id);

test('usage values an upstream gets wrong are recorded as unknown, never wedge or refund (cases 2, 3)', async () => {
  let usage = null;
  const up = await rawUpstream((req, body, res) => sendJson(res, 200, completion(usage)));
  const gw = await startTestGateway({ extraProviders: [provider('odd', up.url)],
    catalog: { credits: { provider_id: 'odd', package_type: 'credits', total_credits: 10, used_credits: 0, currency: 'USD', models: ['*'] } } });
  try {
    const cases = [{ prompt_tokens: { cached: 1 }, completion_tokens: 1 }, { prompt_tokens: 'n/a', completion_tokens: 1 },
      { prompt_tokens: 1e308, completion_tokens: 1 }, { prompt_tokens: -3, completion_tokens: -3 }, { prompt_tokens: 1, completion_tokens: 1, cost: -5 }];
    for (const u of cases) {
      usage = u;
      const r = await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
      assert.equal(r.status, 200, JSON.stringify(u));
    }
    usage = { prompt_tokens: 2, completion_tokens: 1 };  // priced at 1 USD per token: 3 USD
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).status, 200);
    const pkg = await pkgOf(gw, 'credits');
    // (1 completion token + 0 for the invalid prompt) * 3 cases, 0 for the negative case, 2 for the
    // negative cost (priced from tokens), 3 for the valid one.
    assert.equal(pkg.used, 1 + 1 + 1 + 0 + 2 + 3);
    assert.ok(pkg.remaining <= 10 && pkg.remaining >= 0, `remaining ${pkg.remaining}`);
    await gw.ledger.checkpoint();
    assert.equal(gw.ledger.health().degraded, false, 'checkpoints keep working');
    assert.equal(ledgerLines(gw).length, 0, 'the journal shrinks');
    assert.equal(gw.ledger.waiting, 0, 'every event is in a segment');
    const warnings = gw.logs.lines.filter((l) => /upstream usage values are invalid/.test(l));
    assert.equal(warnings.length, 5);
    assert.match(warnings[0], /usage\.prompt_tokens=\{\\"cached\\":1\}/);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_usage_invalid_total\{provider="odd"\} 5/);
  } finally {
    await gw.stop();
    await up.close();
  }
});

test('streams while the journal cannot be written: no complete stream, then refused before the first byte (case 4)', async () => {
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: { a: { provider_id: 'a', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  const realIo = gw.ledger.journal.io;
  try {
    gw.ledger.journal.io = { ...realIo, writeSync: () => { throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }); } };
    const first = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
    assert.equal(first.status, 200, 'headers were sent before the journal failed');
    assert.doesNotMatch(first.text, /\[DONE\]/, 'no terminator: the client sees an incomplete stream');
    assert.match(first.text, /usage ledger unavailable \(ENOSPC\)/);
    const health = await (await fetch(`${gw.url}/health`)).json();
    assert.deepEqual([health.status, health.ledger.reason], ['degraded', 'usage journal cannot be written (ENOSPC)']);
    for (let i = 0; i < 5; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.code, 'ledger_unavailable');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    const anthropic = await postJson(`${gw.url}/v1/messages`, { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], stream: true });
    assert.equal(anthropic.status, 503);
    assert.equal(anthropic.json.type, 'error');
    assert.equal(gw.fakes.a.received, 1, 'refused requests never reach the upstream');
    gw.ledger.journal.io = realIo;
    const ok = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
    assert.equal(ok.status, 200);
    assert.match(ok.text, /data: \[DONE\]/);
  } finally {
    gw.ledger.journal.io = realIo;
    await gw.stop();
  }
  assert.deepEqual((await storedEvents(gw)).map((e) => e.status), [200, 200], 'the first stream was counted once its line could be written');
});

test('a client that reads the whole answer and leaves before the stream ends is counted (case 5)', async () => {
  let release;
  const up = await rawUpstream((req, body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sseChunk({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'the whole answer' }, finish_reason: 'stop' }] }));
    release = () => {
      res.write(sseChunk({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } }));
      res.end('data: [DONE]\n\n');
    };
  });
  const gw = await startTestGateway({ extraProviders: [provider('s', up.url)], catalog: { w: { provider_id: 's', package_type: 'rolling_window', window_hours: 5, limit_per_window: 45, models: ['*'] } } });
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m', { stream: true })) });
      const reader = res.body.getReader();
      const { value } = await reader.read();
      assert.match(Buffer.from(value).toString(), /the whole answer/);
      await reader.cancel();  // the client has its answer and closes
      await new Promise((resolve) => setTimeout(resolve, 30));
      release();
    }
    for (let i = 0; i < 100 && (await pkgOf(gw, 'w')).used < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await pkgOf(gw, 'w')).used, 5, 'five full answers, five counted');
  } finally {
    await gw.stop();
    await up.close();
  }
  const events = await storedEvents(gw);
  assert.deepEqual(events.map((e) => [e.status, e.tokens_in, e.tokens_out]), Array(5).fill([200, 7, 3]));
});

test('an unterminated giant SSE event is cut off at the limit (case 13)', async () => {
  const up = await rawUpstream((req, body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sseChunk({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'a' } }] }));
    const piece = `data: ${'x'.repeat(64 * 1024)}`;
    let sent = 0;
    const pump = () => {
      while (sent < 64 * 1024 * 1024) {
        sent += piece.length;
        if (!res.write(piece)) return res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => { sent = Infinity; });
    pump();
  });
  const gw = await startTestGateway({ extraProviders: [provider('big', up.url)], catalog: { d: { provider_id: 'big', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
    server: { max_sse_event_bytes: '256kb' } });
  try {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.text, /upstream SSE event larger than 262144 bytes/);
    assert.ok(r.text.length < 64 * 1024, `the giant event was not forwarded (${r.text.length} bytes)`);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
  } finally {
    await gw.stop();
    await up.close();
  }
});

test('redirects fail over, absurd retry-after is capped, odd package ids are encoded (cases 11, 15, 16)', async () => {
  const moved = await rawUpstream((req, body, res) => { res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }); res.end(); });
  const forever = await rawUpstream((req, body, res) => sendJson(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '999999999' }));
  const good = await rawUpstream((req, body, res) => sendJson(res, 200, completion({ prompt_tokens: 1, completion_tokens: 1 })));
  const gw = await startTestGateway({ extraProviders: [provider('moved', moved.url, { models: ['r'] }), provider('good', good.url, { models: ['r'] }),
    provider('forever', forever.url, { models: ['f'] })],
  catalog: { '通义-daily': { provider_id: 'good', package_type: 'daily', limit_per_day: 100, models: ['*'] },
    m: { provider_id: 'moved', package_type: 'daily', limit_per_day: 1000, models: ['*'] },
    f: { provider_id: 'forever', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  try {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('r'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-provider'), 'good');
    assert.equal(decodeURIComponent(r.headers.get('x-quotagate-package')), '通义-daily');
    assert.match(gw.logs.text(), /"status":307.*redirect|redirect.*"status":307/);
    const f = await postJson(`${gw.url}/v1/chat/completions`, chat('f'));
    assert.equal(f.status, 429);
    assert.ok(Number(f.headers.get('retry-after')) <= 7 * 86400, `Retry-After ${f.headers.get('retry-after')}`);
    const snap = (await quotas(gw)).header_snapshots?.forever || JSON.stringify(await quotas(gw));
    assert.match(JSON.stringify(snap), /capped at 604800 s/);
  } finally {
    await gw.stop();
    await Promise.all([moved.close(), forever.close(), good.close()]);
  }
});

test('cross-site pages, DNS rebinding and text/plain bodies are refused; own origin and tools work (case 10)', async () => {
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: { a: { provider_id: 'a', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  const url = `${gw.url}/v1/chat/completions`;
  const raw = (method, p, headers, body) => rawRequest(gw.port, method, p, headers, body);
  try {
    const plain = await raw('POST', '/v1/chat/completions', { 'content-type': 'text/plain' }, JSON.stringify(chat('m')));
    assert.equal(plain.status, 415, plain.text);
    const crossSite = await postJson(url, chat('m'), { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.json.error.code, 'cross_site_request');
    const noOrigin = await postJson(url, chat('m'), { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' });
    assert.equal(noOrigin.status, 403);
    const rebinding = await raw('GET', '/api/state', { host: 'attacker.example:8090' });
    assert.equal(rebinding.status, 421);
    assert.doesNotMatch(rebinding.text, /"state"/);
    const own = await postJson(url, chat('m'), { origin: gw.url, 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 200, 'the dashboard itself (same origin)');
    const tool = await postJson(url, chat('m'));
    assert.equal(tool.status, 200, 'CLI tools and SDKs send no Origin');
    const nav = await raw('GET', '/dashboard/quotas', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', host: `127.0.0.1:${gw.port}` });
    assert.equal(nav.status, 200, 'a link to the dashboard from elsewhere still opens it');
    assert.equal(gw.fakes.a.received, 2);
  } finally {
    await gw.stop();
  }
  const open = await startTestGateway({ fakes: { a: {} }, catalog: {}, server: { allowed_origins: ['https://app.example'], allowed_hosts: ['gw.internal'] } });
  try {
    const allowed = await postJson(`${open.url}/v1/models`.replace('/v1/models', '/api/route'), { model: 'auto' }, { origin: 'https://app.example' });
    assert.equal(allowed.status, 200, allowed.text);
    const named = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: open.port, path: '/health', headers: { host: 'gw.internal' } }, (res) => resolve(res.statusCode)));
    assert.equal(named, 200);
  } finally {
    await open.stop();
  }
});

test('admin cookie: a malformed one is 401, the cookie never holds the token (case 12)', async () => {
  const token = 'adm-token-0123456789abcdef';
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: {}, server: { admin_token: token } });
  try {
    const bad = await fetch(`${gw.url}/api/quotas`, { headers: { cookie: 'qg_admin=%' } });
    assert.equal(bad.status, 401);
    const login = await fetch(`${gw.url}/dashboard/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
    assert.equal(login.status, 303);
    const setCookie = login.headers.get('set-cookie');
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.ok(!setCookie.includes(token), 'the token itself is not in the cookie');
    const session = setCookie.split(';')[0];
    assert.equal((await fetch(`${gw.url}/api/quotas`, { headers: { cookie: session } })).status, 200);
    assert.equal((await fetch(`${gw.url}/api/quotas`, { headers: { cookie: `qg_admin=${token}` } })).status, 401, 'the raw token is not a session');
    assert.doesNotMatch(gw.logs.text(), /URIError|stack/);
  } finally {
    await gw.stop();
  }
});

// Found by a probe of the fixes above: more of the same kinds.
test('probe findings: keys in redirects and 200 bodies, a held-open stream, odd SSE framing, JSON to a stream request', async () => {
  const KEY = 'sk-probe-key-0123456789';
  let mode = 'redirect';
  const up = await rawUpstream((req, body, res) => {
    const key = req.headers.authorization;
    if (mode === 'redirect') {
      res.writeHead(302, { location: `http://evil.example/?k=${encodeURIComponent(key)}` });
      return res.end();
    }
    if (mode === 'echo-200') return sendJson(res, 200, { ...completion({ prompt_tokens: 1, completion_tokens: 1 }), note: `used ${key}` });
    res.writeHead(200, { 'content-type': mode === 'json-for-stream' ? 'application/json' : 'text/event-stream' });
    if (mode === 'json-for-stream') return res.end(JSON.stringify(completion({ prompt_tokens: 4, completion_tokens: 6 })));
    const sep = mode === 'cr' ? '\r\r' : '\n\n';
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `key ${key}` }, finish_reason: 'stop' }] })}${sep}`);
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 5, completion_tokens: 10 } })}${sep}`);
    if (mode === 'held-open') return res.write('data: [DONE]\n\n');  // and never ends the body
    if (mode === 'unterminated') return res.end('data: [DONE]\n');
    return res.end(`data: [DONE]${sep}`);
  });
  const gw = await startTestGateway({ extraProviders: [provider('p', up.url, { api_key: KEY, timeout_ms: 3000, models: ['m'] })],
    catalog: { c: { provider_id: 'p', package_type: 'credits', total_credits: 1e9, used_credits: 0, currency: 'USD', models: ['*'] } },
    routing: { unhealthy_after_failures: 1000 } });
  const url = `${gw.url}/v1/chat/completions`;
  const used = async () => (await pkgOf(gw, 'c')).used;
  try {
    const r = await postJson(url, chat('m'));
    assert.equal(r.status, 503, 'the only provider redirected: nothing else to try');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_failovers_total\{provider="p",reason="HTTP 302 redirect"\} 1/);
    mode = 'echo-200';
    const echoed = await postJson(url, chat('m'));
    assert.match(echoed.text, /used Bearer \[redacted\]/);
    for (const m of ['held-open', 'unterminated', 'cr']) {
      mode = m;
      const before = await used();
      const t0 = Date.now();
      const s = await postJson(url, chat('m', { stream: true }));
      assert.equal(s.status, 200, m);
      assert.match(s.text, /data: \[DONE\]/, `${m}: the client gets its terminator`);
      assert.doesNotMatch(s.text, /interrupted|error/, m);
      assert.match(s.text, /key Bearer \[redacted\]/, `${m}: a key in a streamed 200 is redacted`);
      assert.ok(Date.now() - t0 < 2500, `${m}: not held until the upstream times out (${Date.now() - t0} ms)`);
      assert.equal(await used() - before, 15, `${m}: usage counted`);
    }
    mode = 'json-for-stream';
    const before = await used();
    const j = await postJson(url, chat('m', { stream: true }));
    assert.match(j.text, /"content":"hi"/);
    assert.match(j.text, /data: \[DONE\]/);
    assert.equal(await used() - before, 10, 'usage of a JSON answer to a streamed request');
  } finally {
    await gw.stop();
    await up.close();
  }
  const everything = gw.logs.text();
  assert.ok(!everything.includes(KEY), 'no key in the logs');
});

test('probe findings: upper-case paths, UTF-16 bodies, a surrogate cut in a header, a client gone before the head', async () => {
  let hold = 0;
  const up = await rawUpstream((req, body, res) => setTimeout(() => sendJson(res, 200, completion({ prompt_tokens: 1, completion_tokens: 2 })), hold));
  const id = `${'x'.repeat(511)}😀`;
  const gw = await startTestGateway({ extraProviders: [provider('u', up.url)], catalog: { [id]: { provider_id: 'u', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  const raw = (p, headers, body) => rawRequest(gw.port, 'POST', p, headers, body);
  try {
    for (const p of ['/V1/chat/completions', '/V1/MESSAGES', '/API/route']) {
      assert.equal((await raw(p, { 'content-type': 'text/plain' }, JSON.stringify(chat('m')))).status, 415, p);
    }
    const deep = Buffer.from(`{"s":"\\\\\\"","model":"m","messages":${'['.repeat(100000)}${']'.repeat(100000)}}`, 'utf16le');
    const d = await raw('/v1/chat/completions', { 'content-type': 'application/json; charset=utf-16le' }, deep);
    assert.equal(d.status, 400, d.text);
    const ok = await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('x-quotagate-package').endsWith('%F0%9F%98%80'));
    // The client leaves 100 ms in; the upstream answers at 300 ms: the answer is counted.
    hold = 300;
    const ac = new AbortController();
    const gone = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('m')), signal: ac.signal }).catch(() => null);
    setTimeout(() => ac.abort(), 100);
    await gone;
    for (let i = 0; i < 50 && (await pkgOf(gw, id)).used < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await pkgOf(gw, id)).used, 2, 'the answer the upstream completed after the client left is counted');
  } finally {
    await gw.stop();
    await up.close();
  }
});

// Issue 15 case 3: an upstream that refuses the stream_options the gateway adds.
test('a provider that refuses stream_options: retried once without it and remembered; quirks in config', async () => {
  const seen = [];
  const up = await rawUpstream((req, body, res) => {
    seen.push(body);
    if (body.stream_options) return sendJson(res, 400, { error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: null, code: null } });
    if (body.seed !== undefined) return sendJson(res, 400, { error: { message: 'Unrecognized request argument supplied: seed' } });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sseChunk({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] }));
    res.end('data: [DONE]\n\n');
  });
  const gw = await startTestGateway({ extraProviders: [provider('az', up.url, { models: ['m'] }), provider('old', up.url, { models: ['o'], quirks: { stream_usage: false, drop_fields: ['seed'] } })],
    catalog: { d: { provider_id: 'az', package_type: 'daily', limit_per_day: 100, models: ['*'] }, o: { provider_id: 'old', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  try {
    const first = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
    assert.equal(first.status, 200, first.text);
    assert.match(first.text, /"content":"ok"/);
    assert.deepEqual(seen.map((b) => !!b.stream_options), [true, false], 'retried once without it');
    const second = await postJson(`${gw.url}/v1/chat/completions`, chat('m', { stream: true }));
    assert.equal(second.status, 200);
    assert.deepEqual(seen.map((b) => !!b.stream_options), [true, false, false], 'remembered for the provider');
    seen.length = 0;
    const configured = await postJson(`${gw.url}/v1/chat/completions`, chat('o', { stream: true, seed: 7 }));
    assert.equal(configured.status, 200, configured.text);
    assert.deepEqual(seen.map((b) => [!!b.stream_options, b.seed]), [[false, undefined]], 'quirks: stream_usage false, drop_fields seed');
  } finally {
    await gw.stop();
    await up.close();
  }
});
