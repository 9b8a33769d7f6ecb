// Configuration: defaults, ${ENV} interpolation, .env files, and errors that name the file, the
// key and what was expected. A bad config or an unsafe bind refuses to start.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { loadConfig, normalise, interpolate } = require('../lib/config');
const { tmpDir } = require('./helpers');

const BIN = path.join(__dirname, '..', 'bin', 'quotagate');

function writeConfig(text, envText) {
  const dir = tmpDir('qg-cfg-');
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, text);
  if (envText) fs.writeFileSync(path.join(dir, '.env'), envText);
  return file;
}

test('defaults: loopback, port 8090, 10 MB bodies, 35 days of ledger', () => {
  const c = normalise({}, 'x.yaml', {});
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 8090);
  assert.equal(c.server.body_limit, 10 * 1024 * 1024);
  assert.equal(c.ledger.retention_days, 35);
});

test('${ENV} interpolation with defaults; metadata dir from QUOTAGATE_/FAIGATE_ variables', () => {
  assert.deepEqual(interpolate({ a: '${X}', b: ['${Y:-dflt}'], c: 3 }, { X: 'x' }), { a: 'x', b: ['dflt'], c: 3 });
  assert.equal(normalise({}, 'x', { FAIGATE_PROVIDER_METADATA_DIR: '/old/faigate' }).metadata_dir, '/old/faigate');
  assert.equal(normalise({}, 'x', { QUOTAGATE_METADATA_DIR: '/new', FAIGATE_PROVIDER_METADATA_DIR: '/old' }).metadata_dir, '/new');
});

test('keys come from a .env file beside config.yaml', () => {
  delete process.env.QG_TEST_DEEPSEEK_KEY;
  const file = writeConfig('providers:\n  - name: deepseek\n    base_url: https://api.deepseek.com/v1\n    api_key: ${QG_TEST_DEEPSEEK_KEY}\n', 'QG_TEST_DEEPSEEK_KEY=sk-from-dotenv\n');
  assert.equal(loadConfig(file).providers[0].api_key, 'sk-from-dotenv');
});

test('errors name the file, the key and what was expected', () => {
  const cases = [
    ['server:\n  port: [1\n', /config\.yaml:\d+:\d+: invalid YAML/],
    ['server:\n  prot: 1\n', /config\.yaml: server\.prot: expected one of the known keys/],
    ['server:\n  port: eighty\n', /config\.yaml: server\.port: expected an integer >= 0 <= 65535, got "eighty"/],
    ['providers:\n  - name: a\n', /config\.yaml: providers\[0\]\.base_url: expected a non-empty string/],
    ['providers:\n  - name: a\n    base_url: ftp://x\n', /providers\[0\]\.base_url: expected an http\(s\) URL/],
    ['providers:\n  - name: a\n    base_url: http://x\n    backend: grpc\n', /providers\[0\]\.backend: expected one of openai-compat \| anthropic \| openai-responses, got "grpc"/],
    ['providers:\n  - {name: a, base_url: "http://x"}\n  - {name: a, base_url: "http://y"}\n', /providers\[1\]\.name: expected a unique provider name/],
    ['server:\n  host: 0.0.0.0\n', /server\.admin_token: expected a token when binding off loopback/],
  ];
  for (const [text, pattern] of cases) {
    const file = writeConfig(text);
    assert.throws(() => loadConfig(file), (err) => pattern.test(err.message) && err.message.includes(file), text);
  }
});

test('quotagate serve refuses a bad config and an unprotected public bind with exit code 2', () => {
  const bad = writeConfig('server:\n  port: -3\n');
  let r = spawnSync(process.execPath, [BIN, 'serve', '--config', bad], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /server\.port: expected an integer >= 0/);
  const ok = writeConfig('server:\n  port: 0\n');
  r = spawnSync(process.execPath, [BIN, 'serve', '--config', ok, '--host', '0.0.0.0'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /admin_token: expected a token when binding off loopback/);
  r = spawnSync(process.execPath, [BIN, 'serve', '--config', '/nonexistent/config.yaml'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\/nonexistent\/config\.yaml: cannot read config \(ENOENT\)/);
});

test('the documented example config loads and validates', () => {
  const c = loadConfig(path.join(__dirname, '..', '..', 'docs', 'examples', 'config.yaml'));
  assert.equal(c.providers.length, 3);
  assert.equal(c.routing.engine.weights.quota_aware, true);
  assert.deepEqual(c.routing.engine.weights.latency_band_ms, [250, 750, 1500, 3000]);
  assert.equal(c.quota_poll.fast_lane_interval_seconds, 900);
});

// Issue 12 cases 9 and 12: a config error names the key and the value's shape, never a secret
// value; a short admin token is refused off loopback.
test('config errors never print a secret; an admin token off loopback needs 16 characters', () => {
  const KEY = 'ck-PLANTED-cfg-83f1a0';
  const file = writeConfig('server:\n  client_keys: ${QG_KEY}\n');
  assert.throws(() => loadConfig(file, { env: { QG_KEY: KEY } }), (err) => {
    assert.match(err.message, /server\.client_keys: expected a list of non-empty strings, got a string of 21 characters \(not shown/);
    assert.ok(!err.message.includes(KEY));
    return true;
  });
  for (const [raw, key] of [[{ server: { admin_token: ['x', KEY] } }, 'server.admin_token'], [{ providers: [{ name: 'p', base_url: 'http://x', api_key: { k: KEY } }] }, 'providers[0].api_key'],
    [{ quota_poll: { providers: { deepseek: { base_url: 5, api_key: KEY } } } }, 'quota_poll.providers.deepseek.base_url']]) {
    assert.throws(() => normalise(raw, 'c.yaml', {}), (err) => {
      assert.ok(err.message.startsWith(`c.yaml: ${key}: `), err.message);
      assert.ok(!err.message.includes(KEY), err.message);
      return true;
    });
  }
  // A secret where a mapping or a list belongs (a missing `-`, a ${VAR} one level too high).
  for (const raw of [{ providers: { name: 'oa', api_key: KEY } }, { ledger: { postgres: `postgres://u:${KEY}@h/db` } }, { quota_poll: { providers: { deepseek: KEY } } },
    { server: KEY }, { providers: [KEY] }, { providers: [{ name: 'a', base_url: 'http://x', price: KEY }] },
    { ledger: { backend: 'postgres', postgres: { url: 'postgres://x@h/d', instance_id: `${KEY}!` } } }]) {
    assert.throws(() => normalise(raw, 'c.yaml', {}), (err) => !err.message.includes(KEY) && /^c\.yaml: /.test(err.message), JSON.stringify(Object.keys(raw)));
  }
  assert.throws(() => normalise({ server: { host: '0.0.0.0', admin_token: 'x' } }, 'c.yaml', {}),
    /server\.admin_token: expected at least 16 characters when binding off loopback \(server\.host is 0\.0\.0\.0\), got a string of 1 characters/);
  assert.equal(normalise({ server: { host: '0.0.0.0', admin_token: 'a'.repeat(16) } }, 'c.yaml', {}).server.admin_token.length, 16);
});
