// OpenTelemetry trace export (telemetry.otlp_endpoint) end to end: a local OTLP/HTTP receiver
// (JSON), the gateway against fake upstreams. One SERVER span per client request with the GenAI
// attributes, usage and route decision; one CLIENT child per upstream attempt (a failover: two,
// the first with ERROR); streams end their spans when the stream ends; the exported bytes never
// hold message content, completions or any key; off, no SDK is loaded and nothing is sent.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startTestGateway, postJson, chat } = require('./helpers');
const { normalise } = require('../lib/config');
const { Redactor, configSecrets } = require('../lib/redact');

const DAILY = (provider, limit, models) => ({ provider_id: provider, package_type: 'daily', limit_per_day: limit, models });
const SERVER = 2;   // OTLP span kinds
const CLIENT = 3;
const ERROR = 2;    // OTLP status code
const PROMPT = 'the launch code is PURPLE-ELEPHANT-7731';  // message content: must never be exported
const CLIENT_KEY = 'qg-client-key-5b1e2c9d7a';
const COLLECTOR_KEY = 'collector-key-0f9e8d7c6b5a4';

// A local OTLP/HTTP traces receiver: keeps every request's raw bytes, content type and headers.
// status: what it answers (400: a collector that refuses every export; not retried).
async function startReceiver({ status = 200 } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      requests.push({ url: req.url, method: req.method, headers: req.headers, raw: Buffer.concat(parts) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{}' : '{"code":3,"message":"refused"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
  return {
    url, requests,
    raw: () => Buffer.concat(requests.map((r) => r.raw)),
    // Every exported span, with its resource's attributes and its own flattened.
    spans() {
      const out = [];
      for (const r of requests) {
        const doc = JSON.parse(r.raw.toString('utf8'));
        for (const rs of doc.resourceSpans || []) {
          const resource = attrs(rs.resource && rs.resource.attributes);
          for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) out.push({ ...s, attrs: attrs(s.attributes), resource });
        }
      }
      return out;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

function attrs(list = []) {
  const out = {};
  for (const { key, value } of list) {
    if ('stringValue' in value) out[key] = value.stringValue;
    else if ('intValue' in value) out[key] = Number(value.intValue);
    else if ('doubleValue' in value) out[key] = value.doubleValue;
    else if ('boolValue' in value) out[key] = value.boolValue;
  }
  return out;
}

// Flushes the gateway's exporter until `count` server spans have arrived (each flush resolves
// once its export request was answered); a bounded number of tries, no sleeping.
async function serverSpans(gw, receiver, count) {
  for (let i = 0; i < 20; i++) {
    await gw.telemetry.flush();
    const spans = receiver.spans().filter((s) => s.kind === SERVER);
    if (spans.length >= count) return spans;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return receiver.spans().filter((s) => s.kind === SERVER);
}

const childrenOf = (receiver, span) => receiver.spans().filter((s) => s.parentSpanId === span.spanId && s.traceId === span.traceId);

// Two providers for one model, at most two attempts, traces exported to a local receiver.
async function failoverGateway() {
  const receiver = await startReceiver();
  const gw = await startTestGateway({
    fakes: { first: {}, second: {} },
    catalog: { one: DAILY('first', 1000, ['*']), two: DAILY('second', 1000, ['*']) },
    routing: { max_attempts: 2 },
    telemetry: { otlp_endpoint: receiver.url },
  });
  return { receiver, gw };
}

test('telemetry off: no OpenTelemetry SDK is loaded and nothing is exported, even with OTEL_* variables set', async () => {
  const receiver = await startReceiver();
  try {
    // A fresh process: this file loads the SDK for the other tests.
    const script = `
      const { startTestGateway, postJson, chat } = require(${JSON.stringify(path.join(__dirname, 'helpers'))});
      (async () => {
        const gw = await startTestGateway({ fakes: { alpha: {} }, catalog: { a: { provider_id: 'alpha', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
        const statuses = [(await postJson(gw.url + '/v1/chat/completions', chat('m'))).status,
          (await postJson(gw.url + '/v1/chat/completions', chat('m', { stream: true }))).status];
        const telemetry = gw.telemetry;
        await gw.stop();
        const files = Object.keys(require.cache);
        const packages = [...new Set(files.filter((f) => f.includes('node_modules/@opentelemetry/')).map((f) => f.split('node_modules/')[1].split('/').slice(0, 2).join('/')))];
        const ours = files.filter((f) => f.includes('/lib/telemetry/')).map((f) => f.split('/lib/telemetry/')[1]);
        process.stdout.write(JSON.stringify({ statuses, telemetry, packages, ours }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace('/v1/traces', ''), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'otlp' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    assert.deepEqual(r.statuses, [200, 200]);
    assert.equal(r.telemetry, null, 'no telemetry handle when otlp_endpoint is not set');
    // prom-client itself loads @opentelemetry/api (exemplars); nothing else of OpenTelemetry may load.
    assert.deepEqual(r.packages.filter((p) => p !== '@opentelemetry/api'), [], `loaded: ${r.packages.join(', ')}`);
    assert.deepEqual(r.ours.sort(), ['index.js', 'telemetry-config.js'], 'the tracer and pipeline modules stay unloaded');
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
  } finally {
    await receiver.close();
  }
});

test('one SERVER span per request with GenAI attributes, usage and the route decision; a CLIENT child per attempt; nothing secret exported', async () => {
  const receiver = await startReceiver();
  const gw = await startTestGateway({
    fakes: { alpha: { models: ['gpt-*'] }, claude: { dialect: 'anthropic', models: ['claude-*'] } },
    catalog: { 'alpha-daily': DAILY('alpha', 100, ['gpt-*']), 'claude-daily': DAILY('claude', 100, ['claude-*']) },
    server: { client_keys: [CLIENT_KEY] },
    telemetry: { otlp_endpoint: receiver.url, service_name: 'qg-test', headers: { 'x-collector-key': COLLECTOR_KEY } },
  });
  try {
    const auth = { authorization: `Bearer ${CLIENT_KEY}` };
    const body = (extra) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], ...extra });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const whole = await postJson(`${gw.url}/v1/chat/completions`, body(), { ...auth, traceparent });
    assert.equal(whole.status, 200, whole.text);
    const streamed = await postJson(`${gw.url}/v1/chat/completions`, body({ stream: true }), auth);
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /data: \[DONE\]/);
    const messages = await postJson(`${gw.url}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: PROMPT }] }, auth);
    assert.match(messages.text, /event: message_stop/);

    const servers = await serverSpans(gw, receiver, 3);
    assert.equal(servers.length, 3, 'one server span per client request');
    assert.ok(receiver.requests.every((r) => r.url === '/v1/traces' && r.method === 'POST' && /^application\/json/.test(r.headers['content-type'])));
    assert.ok(receiver.requests.every((r) => r.headers['x-collector-key'] === COLLECTOR_KEY), 'telemetry.headers go with every export');
    for (const s of servers) assert.equal(s.resource['service.name'], 'qg-test');

    const byId = new Map(servers.map((s) => [s.attrs['quotagate.request_id'], s]));
    const ws = byId.get(whole.headers.get('x-request-id'));
    assert.ok(ws, 'the server span carries the request id the client got');
    assert.equal(ws.name, 'POST /v1/chat/completions');
    assert.equal(ws.traceId, '0af7651916cd43dd8448eb211c80319c', 'a client traceparent is honoured');
    assert.equal(ws.parentSpanId, 'b7ad6b7169203331');
    assert.deepEqual(
      { op: ws.attrs['gen_ai.operation.name'], system: ws.attrs['gen_ai.system'], req: ws.attrs['gen_ai.request.model'], resp: ws.attrs['gen_ai.response.model'],
        tin: ws.attrs['gen_ai.usage.input_tokens'], tout: ws.attrs['gen_ai.usage.output_tokens'], status: ws.attrs['http.response.status_code'],
        route: ws.attrs['http.route'], provider: ws.attrs['quotagate.route.provider'], pkg: ws.attrs['quotagate.route.package'], stream: ws.attrs['quotagate.stream'], attempts: ws.attrs['quotagate.attempts'] },
      { op: 'chat', system: 'openai', req: 'gpt-4o-mini', resp: 'gpt-4o-mini', tin: 12, tout: 7, status: 200, route: '/v1/chat/completions',
        provider: 'alpha', pkg: 'alpha-daily', stream: false, attempts: 1 });
    assert.equal(typeof ws.attrs['quotagate.route.why'], 'string');
    assert.ok(ws.attrs['quotagate.route.why'].length > 0 && ws.attrs['quotagate.route.why'].length <= 300);
    assert.ok(Math.abs(ws.attrs['quotagate.cost_usd'] - (12 * 1 + 7 * 2) / 1e6) < 1e-12);
    assert.notEqual(ws.status.code, ERROR);

    const [wc, ...more] = childrenOf(receiver, ws);
    assert.equal(more.length, 0, 'one attempt, one child');
    assert.equal(wc.kind, CLIENT);
    assert.equal(wc.name, 'chat gpt-4o-mini');
    assert.deepEqual([wc.attrs['server.address'], wc.attrs['server.port'], wc.attrs['http.response.status_code'], wc.attrs['gen_ai.system']],
      ['127.0.0.1', gw.fakes.alpha.port, 200, 'openai']);
    assert.deepEqual([wc.attrs['gen_ai.usage.input_tokens'], wc.attrs['gen_ai.usage.output_tokens'], wc.attrs['quotagate.route.package']], [12, 7, 'alpha-daily']);
    assert.ok(BigInt(wc.startTimeUnixNano) >= BigInt(ws.startTimeUnixNano) && BigInt(wc.endTimeUnixNano) <= BigInt(ws.endTimeUnixNano), 'the attempt lies within the request');

    // Streams: the spans end with the stream, so the usage of its last chunk is on them.
    const ss = byId.get(streamed.headers.get('x-request-id'));
    assert.equal(ss.attrs['quotagate.stream'], true);
    assert.deepEqual([ss.attrs['gen_ai.usage.input_tokens'], ss.attrs['gen_ai.usage.output_tokens'], ss.attrs['gen_ai.response.model']], [12, 7, 'gpt-4o-mini']);
    assert.notEqual(ss.traceId, ws.traceId, 'without a traceparent, a trace of its own');
    const [sc] = childrenOf(receiver, ss);
    assert.deepEqual([sc.attrs['gen_ai.usage.input_tokens'], sc.attrs['gen_ai.usage.output_tokens']], [12, 7]);
    const ms = byId.get(messages.headers.get('x-request-id'));
    assert.equal(ms.name, 'POST /v1/messages');
    assert.deepEqual([ms.attrs['gen_ai.system'], ms.attrs['gen_ai.response.model'], ms.attrs['gen_ai.usage.input_tokens'], ms.attrs['gen_ai.usage.output_tokens'], ms.attrs['quotagate.route.provider']],
      ['anthropic', 'claude-sonnet-4-5', 12, 7, 'claude']);

    // Never content, completions or keys: searched in the raw bytes of every export.
    const raw = receiver.raw().toString('utf8');
    for (const secret of ['PURPLE-ELEPHANT', 'launch code', 'Hello from', 'sk-test-alpha-0000', 'sk-test-claude-0000', CLIENT_KEY, COLLECTOR_KEY]) {
      assert.equal(raw.includes(secret), false, `exported bytes hold ${secret}`);
    }
  } finally {
    await gw.stop();
    await receiver.close();
  }
});

test('failover: two CLIENT children, the failed one with ERROR; all attempts failed: the server span is an error', async () => {
  const { receiver, gw } = await failoverGateway();
  try {
    gw.fakes.first.mode = '503';
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('m-1', { stream: true }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-quotagate-provider'), 'second');
    const [s] = await serverSpans(gw, receiver, 1);
    assert.equal(s.attrs['quotagate.attempts'], 2);
    assert.equal(s.attrs['quotagate.route.provider'], 'second', 'the server span names the decision that served');
    assert.equal(s.attrs['http.response.status_code'], 200);
    assert.notEqual(s.status.code, ERROR);
    const kids = childrenOf(receiver, s).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    assert.equal(kids.length, 2);
    assert.deepEqual(kids.map((k) => [k.kind, k.attrs['quotagate.route.provider'], k.attrs['http.response.status_code']]), [[CLIENT, 'first', 503], [CLIENT, 'second', 200]]);
    assert.equal(kids[0].status.code, ERROR);
    assert.equal(kids[0].attrs['error.type'], '503');
    assert.equal(kids[0].attrs['gen_ai.usage.input_tokens'], undefined, 'a failed attempt reports no usage');
    assert.notEqual(kids[1].status.code, ERROR);
    assert.equal(kids[1].attrs['error.type'], undefined);
    assert.deepEqual([kids[1].attrs['gen_ai.usage.input_tokens'], kids[1].attrs['gen_ai.usage.output_tokens']], [12, 7]);
    assert.ok(BigInt(kids[0].endTimeUnixNano) <= BigInt(kids[1].startTimeUnixNano), 'attempts are sequential');

    gw.fakes.second.mode = '500';
    const f = await postJson(`${gw.url}/v1/chat/completions`, chat('m-1'));
    assert.equal(f.status, 503);
    const failed = (await serverSpans(gw, receiver, 2)).find((x) => x.attrs['quotagate.request_id'] === f.headers.get('x-request-id'));
    assert.equal(failed.status.code, ERROR);
    assert.deepEqual([failed.attrs['http.response.status_code'], failed.attrs['error.type'], failed.attrs['gen_ai.usage.input_tokens']], [503, 'upstream_unavailable', undefined]);
    const failedKids = childrenOf(receiver, failed);
    assert.equal(failedKids.length, 2);
    assert.ok(failedKids.every((k) => k.status.code === ERROR));
  } finally {
    await gw.stop();
    await receiver.close();
  }
});

test('span times keep the real order: a failover\'s attempts one after the other, every attempt inside its server span', async () => {
  // The SDK's own clock stamps each span's start at Date.now() (whole milliseconds): attempts a
  // fraction of a millisecond apart could come out inverted, and a child could end after its parent.
  const { receiver, gw } = await failoverGateway();
  try {
    gw.fakes.first.mode = '503';
    const N = 30;
    for (let i = 0; i < N; i++) assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m-1'))).status, 200);
    const servers = await serverSpans(gw, receiver, N);
    assert.equal(servers.length, N);
    const t = (x) => BigInt(x);
    let failovers = 0;
    for (const s of servers) {
      // The first provider cools down after its 503s: later requests go straight to the second.
      const kids = childrenOf(receiver, s).sort((a, b) => (t(a.startTimeUnixNano) < t(b.startTimeUnixNano) ? -1 : 1));
      assert.equal(kids[kids.length - 1].attrs['quotagate.route.provider'], 'second');
      if (kids.length === 2) failovers++;
      for (let i = 1; i < kids.length; i++) assert.ok(t(kids[i - 1].endTimeUnixNano) <= t(kids[i].startTimeUnixNano), 'attempts are sequential');
      assert.ok(t(s.startTimeUnixNano) <= t(kids[0].startTimeUnixNano) && t(kids[kids.length - 1].endTimeUnixNano) <= t(s.endTimeUnixNano),
        'children inside their server span');
    }
    assert.ok(failovers >= 1);
  } finally {
    await gw.stop();
    await receiver.close();
  }
});

test('closing the gateway exports the spans still batched; a collector that refuses exports fails no request', async () => {
  const receiver = await startReceiver();
  const gw = await startTestGateway({ fakes: { alpha: {} }, catalog: { a: DAILY('alpha', 100, ['*']) }, telemetry: { otlp_endpoint: receiver.url } });
  const r = await postJson(`${gw.url}/v1/chat/completions`, chat('m'));
  assert.equal(r.status, 200);
  assert.equal(receiver.requests.length, 0, 'batched, not sent per span');
  await gw.stop();  // shutdown flushes
  assert.equal(receiver.spans().filter((s) => s.kind === SERVER).length, 1);
  await receiver.close();

  const refusing = await startReceiver({ status: 400 });
  const gw2 = await startTestGateway({ fakes: { alpha: {} }, catalog: { a: DAILY('alpha', 100, ['*']) }, telemetry: { otlp_endpoint: refusing.url } });
  try {
    assert.equal((await postJson(`${gw2.url}/v1/chat/completions`, chat('m'))).status, 200);
    await gw2.telemetry.flush();
    assert.equal(refusing.requests.length, 1);
    assert.match(gw2.logs.text(), /OpenTelemetry trace export failed/);
  } finally {
    await gw2.stop();
    await refusing.close();
  }
});

test('telemetry config: headers are checked, never printed, and known to the redactor', () => {
  const secret = 'hc-0123456789abcdefXYZ';
  assert.throws(() => normalise({ telemetry: { otlp_endpoint: 'http://127.0.0.1:4318/v1/traces', headers: { 'x-honeycomb-team': `${secret}\nx` } } }, 'c.yaml'),
    (e) => /telemetry\.headers\.x-honeycomb-team/.test(e.message) && !e.message.includes(secret));
  assert.throws(() => normalise({ telemetry: { otlp_endpoint: `ftp://${secret}@collector` } }, 'c.yaml'),
    (e) => /telemetry\.otlp_endpoint/.test(e.message) && !e.message.includes(secret));
  const config = normalise({ telemetry: { otlp_endpoint: `https://u:${secret}@collector.example/v1/traces`, headers: { 'x-honeycomb-team': secret, accept: 'json' } } }, 'c.yaml');
  assert.deepEqual(config.telemetry.headers, { 'x-honeycomb-team': secret, accept: 'json' });
  const redactor = new Redactor(configSecrets(config));
  assert.equal(redactor.text(`export to ${config.telemetry.otlp_endpoint} with ${secret}`), 'export to [redacted] with [redacted]');
  assert.equal(redactor.text('{"type":"json"}'), '{"type":"json"}', 'a short non-credential header value is not a secret');
  assert.deepEqual(normalise({}, 'c.yaml').telemetry, { otlp_endpoint: null, service_name: 'quotagate', headers: {} });
});
