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
