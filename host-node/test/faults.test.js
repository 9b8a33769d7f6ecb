// Fault injection against fake upstreams and hostile clients. Every client request gets a
// well-formed answer (a success through failover, or a clean error with Retry-After), there is no
// unhandled rejection, the server stays healthy, and memory returns to its baseline.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const v8 = require('node:v8');
const vm = require('node:vm');
const { startTestGateway, postJson, chat } = require('./helpers');

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc');
const unhandled = [];
process.on('unhandledRejection', (r) => unhandled.push(r));

const DAILY = (provider) => ({ provider_id: provider, package_type: 'daily', limit_per_day: 1e6, models: ['*'] });

function wellFormed(r, label) {
  if (r.status === 200) return;
  assert.ok([429, 503].includes(r.status), `${label}: unexpected status ${r.status}: ${r.text.slice(0, 200)}`);
  assert.ok(r.json && r.json.error && typeof r.json.error.message === 'string', `${label}: error body ${r.text.slice(0, 200)}`);
  assert.ok(Number(r.headers.get('retry-after')) > 0, `${label}: Retry-After`);
}

test('upstream faults: 429 storms, 5xx, resets, slow first byte, malformed JSON and SSE', async () => {
  // windowMs 1000: the fakes' 429s ask for a 1 s retry, so cooldowns end between the cases.
  const gw = await startTestGateway({ fakes: { a: { timeout_ms: 300, windowMs: 1000 }, b: { timeout_ms: 300, windowMs: 1000 } }, catalog: { pa: DAILY('a'), pb: DAILY('b') },
    routing: { default_cooldown_s: 1, unhealthy_after_failures: 1000 } });
  const url = `${gw.url}/v1/chat/completions`;
  const storm = async (label, n, body = chat('m')) => {
    const results = await Promise.all(Array.from({ length: n }, () => postJson(url, body)));
    for (const r of results) wellFormed(r, label);
    return results;
  };
  const reset = () => {
    for (const f of Object.values(gw.fakes)) f.mode = 'ok';
    gw.engine.observe('a', '', '', 200, '', '', 1, Date.now() + 3600000);
    gw.engine.observe('b', '', '', 200, '', '', 1, Date.now() + 3600000);
  };
  try {
    await storm('warm-up', 5);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let faults = 0;
    for (const mode of ['429', '500', '502', '503', 'reset', 'slow', 'bad-json']) {
      gw.fakes.a.mode = mode;
      const rs = await storm(`a=${mode}`, 20);
      assert.ok(rs.every((r) => r.status === 200), `a=${mode}: b answers every request`);
      faults += 20;
      reset();
    }
    for (const mode of ['429', '429-bare', '503']) {
      gw.fakes.a.mode = mode;
      gw.fakes.b.mode = mode;
      const rs = await storm(`both=${mode}`, 20);
      assert.ok(rs.every((r) => r.status === 429 || r.status === 503), `both=${mode}: clients are told to come back`);
      faults += 20;
      reset();
      await new Promise((resolve) => setTimeout(resolve, 1500));  // let the 1 s cooldowns pass
    }
    // Mid-stream reset: no failover after the first byte, but a clean, terminated stream.
    gw.fakes.a.mode = 'reset-mid-stream';
    gw.fakes.b.mode = 'reset-mid-stream';
    const s = await postJson(url, chat('m', { stream: true }));
    assert.equal(s.status, 200, `mid-stream reset: ${s.text.slice(0, 200)}`);
    assert.match(s.text, /upstream stream interrupted/);
    reset();
    gw.fakes.a.mode = 'bad-sse';
    gw.fakes.b.mode = 'bad-sse';
    const bad = await postJson(url, chat('m', { stream: true }));
    assert.equal(bad.status, 200);
    assert.match(bad.text, /data: \[DONE\]/);
    reset();
    for (let i = 0; i < 3; i++) await storm('after', 20);
    gc();
    const growth = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
    assert.ok(growth < 15, `heap grew ${growth.toFixed(1)} MB after ${faults} faulted requests`);
    assert.equal((await fetch(`${gw.url}/health`)).status, 200);
    assert.deepEqual(unhandled, []);
    test.diagnostic?.(`faults survived: ${faults + 2} requests under upstream faults; heap growth ${growth.toFixed(1)} MB`);
  } finally {
    await gw.stop();
  }
});

test('hostile clients: deep nesting, invalid UTF-8, header injection, path traversal, slowloris', async () => {
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: { pa: DAILY('a') }, server: { headers_timeout_ms: 400, request_timeout_ms: 600 } });
  const url = `${gw.url}/v1/chat/completions`;
  try {
    const cases = [
      ['deeply nested JSON', `{"model":"m","messages":${'['.repeat(50000)}${']'.repeat(50000)}}`],
      ['nested but wrong type', JSON.stringify({ model: { a: { b: { c: 'd' } } }, messages: [] })],
      ['wrong types', JSON.stringify({ model: 'm', messages: [], stream: 'yes' })],
      ['null body', 'null'],
      ['array body', '[1,2,3]'],
    ];
    for (const [label, body] of cases) {
      const r = await postJson(url, body);
      assert.equal(r.status, 400, `${label}: ${r.status} ${r.text.slice(0, 120)}`);
      assert.ok(r.json, `${label}: JSON answer`);
    }
    const utf8 = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"model":"m\xff\xfe","messages":[]}', 'latin1')]) });
    assert.equal(utf8.status, 400);
    const inj = await postJson(url, { model: 'm\r\nSet-Cookie: pwned=1', messages: [] });
    assert.equal(inj.status, 400);
    assert.equal(inj.headers.get('set-cookie'), null);
    for (const p of ['/dashboard/../../etc/passwd', '/dashboard/%2e%2e/%2e%2e/etc/passwd', '/dashboard/..%2f..%2fetc%2fpasswd', '/dashboard/vendor/../../package.json', '/dashboard/wasm/../../../etc/passwd']) {
      const res = await new Promise((resolve) => {
        const sock = net.connect(gw.port, '127.0.0.1', () => sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
        let data = '';
        sock.on('data', (d) => { data += d; });
        sock.on('end', () => resolve(data));
      });
      assert.match(res, /^HTTP\/1\.1 (400|404)/, p);
      assert.doesNotMatch(res, /root:|"name": "quotagate"/, p);
    }
    // Slowloris: headers trickle in and never finish; the server cuts the connection.
    const started = Date.now();
    const closed = await new Promise((resolve) => {
      const sock = net.connect(gw.port, '127.0.0.1', () => sock.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n'));
      const drip = setInterval(() => sock.write('X-Slow: 1\r\n'), 100);
      let data = '';
      sock.on('data', (d) => { data += d; });
      sock.on('close', () => {
        clearInterval(drip);
        resolve(data);
      });
      sock.on('error', () => {});
    });
    assert.ok(Date.now() - started < 5000, 'the slow client was cut off');
    assert.match(closed, /^$|408/);
    const ok = await postJson(url, chat('m'));
    assert.equal(ok.status, 200, 'healthy afterwards');
    assert.deepEqual(unhandled, []);
  } finally {
    await gw.stop();
  }
});
