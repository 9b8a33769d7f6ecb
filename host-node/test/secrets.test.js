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
