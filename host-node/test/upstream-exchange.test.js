// One upstream exchange on undici's dispatch API (lib/upstream-exchange.js): endpoints keep a
// base path and query, raw header lines reach the engine byte for byte (repeats kept), bodies are
// read whole, truncated or refused past a limit, piped with backpressure, and an abort from our
// side (the client went away) ends the exchange at any point.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { UpstreamExchange, endpointOf, rawHeadersBuffer } = require('../lib/upstream-exchange');

test('endpointOf keeps the base path and any query, without doubling slashes', () => {
  assert.deepEqual(endpointOf('http://127.0.0.1:9/v1', '/chat/completions'), { origin: 'http://127.0.0.1:9', path: '/v1/chat/completions' });
  assert.deepEqual(endpointOf('https://h.example/v1/', '/chat/completions'), { origin: 'https://h.example', path: '/v1/chat/completions' });
  assert.deepEqual(endpointOf('https://h.example/openai?api-version=2024-06-01', '/chat/completions'),
    { origin: 'https://h.example', path: '/openai/chat/completions?api-version=2024-06-01' });
  assert.deepEqual(endpointOf('https://api.anthropic.com', '/v1/messages'), { origin: 'https://api.anthropic.com', path: '/v1/messages' });
});

test('rawHeadersBuffer writes one "name: value" line per header, repeats included', () => {
  const raw = ['X-RateLimit-Remaining-Requests', '99', 'set-cookie', 'a=1', 'set-cookie', 'b=2'].map((s) => Buffer.from(s, 'latin1'));
  assert.equal(rawHeadersBuffer(raw).toString('latin1'), 'X-RateLimit-Remaining-Requests: 99\nset-cookie: a=1\nset-cookie: b=2\n');
  assert.equal(rawHeadersBuffer([]).length, 0);
});

async function withServer(handler, fn) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn({ origin: `http://127.0.0.1:${server.address().port}`, path: '/x' });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const exchange = (target, timeoutMs = 2000) => new UpstreamExchange(target, { headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs }).start();

test('a body is read whole, truncated on request, or refused past the limit', async () => {
  const big = 'x'.repeat(200000);
  await withServer((req, res) => {
    req.resume();
    res.writeHead(429, { 'x-ratelimit-remaining-requests': '0' });
    res.end(big);
  }, async (target) => {
    const whole = exchange(target);
    const head = await whole.head();
    assert.equal(head.status, 429);
    assert.match(head.headers.toString('latin1'), /^x-ratelimit-remaining-requests: 0$/m);
    assert.equal((await whole.readAll(1 << 20)).length, big.length);

    const cut = exchange(target);
    await cut.head();
    assert.equal(await cut.readAll(1000, { truncate: true }), 'x'.repeat(1000));

    const refused = exchange(target);
    await refused.head();
    await assert.rejects(refused.readAll(1000), { code: 'QG_BODY_TOO_LARGE' });
  });
});

test('pipeTo delivers every byte in order and waits while the sink is full', async () => {
  const parts = Array.from({ length: 50 }, (_, i) => `data: ${i} ${'y'.repeat(2000)}\n\n`);
  await withServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const next = () => (i < parts.length ? res.write(parts[i++], () => setImmediate(next)) : res.end());
    next();
  }, async (target) => {
    const ex = exchange(target);
    await ex.head();
    const got = [];
    let waits = 0;
    await ex.pipeTo({
      write: (chunk) => {
        got.push(chunk);
        return got.length % 5 !== 0;  // full every fifth chunk
      },
      waitDrain: (resume) => {
        waits++;
        setTimeout(resume, 1);
      },
    });
    assert.equal(Buffer.concat(got).toString(), parts.join(''));
    assert.ok(waits > 0, 'the sink was full at least once');
  });
});

test('an abort from our side ends the exchange before or after the headers', async () => {
  await withServer((req, res) => {
    req.resume();
    if (req.headers['x-slow-head']) return;  // never answers
    res.writeHead(200);
    res.write('partial');  // and never ends
  }, async (target) => {
    const early = new UpstreamExchange(target, { headers: { 'x-slow-head': '1' }, body: '{}', timeoutMs: 10000 }).start();
    setTimeout(() => early.abort(new Error('client went away')), 20);
    await assert.rejects(early.head(), /client went away/);

    const late = exchange(target, 10000);
    await late.head();
    const reading = late.readAll(1 << 20);
    setTimeout(() => late.abort(new Error('client went away')), 20);
    await assert.rejects(reading, /client went away/);
  });
});

test('no answer within the timeout rejects head() with undici\'s headers-timeout code', async () => {
  await withServer((req) => req.resume(), async (target) => {
    const ex = exchange(target, 100);
    await assert.rejects(ex.head(), { code: 'UND_ERR_HEADERS_TIMEOUT' });
  });
});
