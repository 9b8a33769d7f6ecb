// Secrets never leave the gateway: a session with planted provider keys, a planted client key and
// a planted admin token, then every response, log line, /api/quotas, /api/state, /metrics and
// header snapshot is searched for them. Zero matches.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startTestGateway, postJson, chat } = require('./helpers');

const PROVIDER_KEY = 'sk-PLANTED-provider-7f3a9c';
const CLIENT_KEY = 'ck-PLANTED-client-2b8c41';
const ADMIN = 'adm-PLANTED-admin-9d1e55';

test('planted keys appear in no response, log line, snapshot, state or metric', async () => {
  const gw = await startTestGateway({
    fakes: { alpha: { api_key: PROVIDER_KEY }, beta: { api_key: `${PROVIDER_KEY}-beta` } },
    catalog: { a: { provider_id: 'alpha', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
    server: { client_keys: [CLIENT_KEY], admin_token: ADMIN },
  });
  const seen = [];
  const record = async (res) => {
    seen.push(JSON.stringify([...res.headers]));
    seen.push(typeof res.text === 'string' ? res.text : await res.text());
  };
  const auth = { authorization: `Bearer ${CLIENT_KEY}` };
  const admin = { authorization: `Bearer ${ADMIN}` };
  try {
    const url = `${gw.url}/v1/chat/completions`;
    await record(await postJson(url, chat('m'), auth));
    await record(await postJson(url, chat('m', { stream: true }), auth));
    await record(await postJson(url, chat('m'), { authorization: `Bearer ${CLIENT_KEY}x` }));  // near miss
    await record(await postJson(url, '{bad json', auth));
    for (const mode of ['echo-key-400', 'echo-key-401', '429', '500']) {
      gw.fakes.alpha.mode = mode;
      gw.fakes.beta.mode = mode;
      await record(await postJson(url, chat('m'), auth));
    }
    gw.fakes.alpha.mode = 'ok';
    for (const p of ['/api/quotas', '/api/state', '/metrics', '/v1/models', '/health']) {
      const res = await fetch(`${gw.url}${p}`, { headers: p.startsWith('/v1') ? auth : admin });
      await record({ headers: res.headers, text: await res.text() });
    }
    await record(await postJson(`${gw.url}/api/route`, { model: 'm' }, admin));
    const snapshots = (await (await fetch(`${gw.url}/api/quotas`, { headers: admin })).json()).header_snapshots;
    assert.ok(Object.keys(snapshots).length >= 1, 'snapshots were captured');
    assert.ok(seen.some((s) => s.includes('Incorrect API key provided: [redacted]') || s.includes('[redacted]')), 'the echoed key was replaced');
  } finally {
    await gw.stop();
  }
  const everything = [...seen, gw.logs.text()].join('\n');
  for (const secret of [PROVIDER_KEY, CLIENT_KEY, ADMIN]) {
    const count = everything.split(secret).length - 1;
    assert.equal(count, 0, `${secret.slice(0, 12)}... appeared ${count} times`);
  }
  assert.ok(gw.logs.lines.length > 5);
});

test('with a shared ledger: the database password and provider keys stay out of shared signals, logs and /api/ledger', async () => {
  const { startPostgres } = require('./pg-server');
  const pg = require('pg');
  const PG_PASSWORD = 'PLANTED-pg-password-51c0';
  const server = await startPostgres();
  const url = server.url.replace('postgres://qg@', `postgres://qg:${PG_PASSWORD}@`);  // trust auth ignores it; the gateway must not
  const seen = [];
  const gws = [];
  try {
    for (const pgUrl of [url, `postgres://qg:${PG_PASSWORD}@127.0.0.1:1/postgres`]) {  // reachable, and refused
      const gw = await startTestGateway({
        fakes: { alpha: { api_key: PROVIDER_KEY } },
        catalog: { a: { provider_id: 'alpha', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
        ledger: { backend: 'postgres', postgres: { url: pgUrl, batch_ms: 1, connect_timeout_ms: 500 } },
      });
      gws.push(gw);
      for (const mode of ['echo-key-400', 'echo-key-401', '429', 'ok']) {
        gw.fakes.alpha.mode = mode;
        seen.push((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).text);
      }
      for (const p of ['/health', '/api/ledger', '/metrics', '/api/quotas']) seen.push(await (await fetch(`${gw.url}${p}`)).text());
      await gw.ledger.shipper.drain(3000);
    }
    assert.match(seen.join('\n'), /"connected":false/, 'the refused instance reports it');
    const c = new pg.Client(server.url);
    await c.connect();
    const { rows } = await c.query('SELECT headers, body, reason FROM qg_signals');
    await c.end();
    assert.ok(rows.length >= 2, 'the 401 and the 429 were shared');
    seen.push(JSON.stringify(rows));
  } finally {
    for (const gw of gws) await gw.stop();
    server.destroy();
  }
  const everything = [...seen, ...gws.map((g) => g.logs.text())].join('\n');
  for (const secret of [PROVIDER_KEY, PG_PASSWORD]) {
    const count = everything.split(secret).length - 1;
    assert.equal(count, 0, `${secret.slice(0, 12)}... appeared ${count} times`);
  }
});

// Issue 12 case 9: every secret the process holds goes through the one redactor on every outward
// path: a key echoed in a rate-limit header (a window named after it, an unreadable value), a
// credential header (Azure `api-key`) echoed in an error, a balance-poller key in a poll error.
test('keys echoed in rate-limit headers, credential headers and poll errors are redacted everywhere', async () => {
  const http = require('node:http');
  const KEY = 'sk-PLANTED-echoed-4e77aa';
  const AZURE = 'az-PLANTED-header-19cc02';
  const POLL = 'sk-PLANTED-poll-6b21d0';
  const server = http.createServer((req, res) => {
    if (req.url === '/user/balance') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ balance_infos: [{ currency: 'USD', total_balance: `${req.headers.authorization}` }] }));
    }
    if (req.headers['api-key'] === AZURE) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: `Access denied for api-key ${AZURE}`, type: 'invalid_request_error' } }));
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': `Bearer ${KEY}`,
      'x-ratelimit-remaining-requests': KEY, ratelimit: `"${KEY}";r=5;t=30`, 'ratelimit-policy': `"${KEY}";q=10;w=60` });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const gw = await startTestGateway({
    extraProviders: [
      { name: 'echo', base_url: `${base}/v1`, api_key: KEY, models: ['e'] },
      { name: 'azure', base_url: `${base}/v1`, headers: { 'api-key': AZURE }, models: ['z'] },
    ],
    catalog: { e: { provider_id: 'echo', package_type: 'daily', limit_per_day: 100, models: ['*'] },
      z: { provider_id: 'azure', package_type: 'daily', limit_per_day: 100, models: ['*'] },
      ds: { provider_id: 'deepseek', package_type: 'credits', total_credits: 10, used_credits: 0, source: 'api_poll', currency: 'USD' } },
  });
  await gw.stop();
  // Restarted with the poller on (the helper has no quota_poll option: set it on the config).
  const { startGateway } = require('../lib/serve');
  const { LogCapture } = require('./helpers');
  const logs = new LogCapture();
  const config = { ...gw.config, quota_poll: { ...gw.config.quota_poll, enabled: true, on_startup: true, providers: { deepseek: { base_url: base, api_key: POLL } } } };
  const live = await startGateway({ config, logStream: logs });
  const seen = [];
  try {
    seen.push((await postJson(`${live.url}/v1/chat/completions`, chat('e'))).text);
    const z = await postJson(`${live.url}/v1/chat/completions`, chat('z'));
    seen.push(z.text);
    assert.match(z.text, /\[redacted\]/, 'the Azure key in the upstream error is replaced');
    for (let i = 0; i < 100; i++) {
      const q = await (await fetch(`${live.url}/api/quotas`)).json();
      if (q.packages.find((p) => p.package_id === 'ds').last_poll_error) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const p of ['/api/quotas', '/api/state', '/metrics']) seen.push(await (await fetch(`${live.url}${p}`)).text());
    const q = JSON.parse(seen[2]);
    assert.match(q.packages.find((p) => p.package_id === 'ds').last_poll_error || '', /\[redacted\]/, 'the poll error names no key');
    assert.ok(q.header_snapshots.echo, 'the echoing provider was observed');
  } finally {
    await live.close();
    server.close();
  }
  const everything = [...seen, logs.text(), gw.logs.text()].join('\n');
  for (const secret of [KEY, AZURE, POLL]) {
    const count = everything.split(secret).length - 1;
    assert.equal(count, 0, `${secret.slice(0, 14)}... appeared ${count} times`);
  }
});
