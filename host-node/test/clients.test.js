// The real CLI clients people use, offline against local fake upstreams: Claude Code (Messages)
// and Codex CLI (Responses), each through a gateway whose only provider speaks another wire
// format, with one tool-call round trip (the fake asks for the client's shell tool, the client
// runs `echo hi`, the answer quotes its output). They live in e2e/clients (about 660 MB, kept out
// of the gateway's own dependencies); `npm test` installs them there with npm ci.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startTestGateway } = require('./helpers');
const { FakeProvider } = require('../lib/demo/fake-provider');

const BIN = path.join(__dirname, '..', '..', 'e2e', 'clients', 'node_modules', '.bin');
const installed = fs.existsSync(path.join(BIN, 'claude')) && fs.existsSync(path.join(BIN, 'codex'));

async function gatewayWith(wire) {
  const fake = await new FakeProvider({ name: `up-${wire}`, dialect: wire === 'messages' ? 'anthropic' : 'openai', wire, limit: 1000 }).listen(0);
  const backend = { chat: 'openai-compat', messages: 'anthropic', responses: 'openai-responses' }[wire];
  const gw = await startTestGateway({ extraProviders: [{ name: fake.name, backend, base_url: wire === 'messages' ? fake.url : `${fake.url}/v1`, api_key: 'sk-up-000000', models: ['*'] }],
    catalog: { p: { provider_id: fake.name, package_type: 'daily', limit_per_day: 1000, models: ['*'] } } });
  const seen = [];
  const handle = fake.handle.bind(fake);
  fake.handle = (req, res) => {
    seen.push({ url: req.url, beta: req.headers['anthropic-beta'] || null, version: req.headers['anthropic-version'] || null });
    return handle(req, res);
  };
  return { gw, fake, seen, async stop() { await gw.stop(); await fake.close(); } };
}

// Runs a client with its own empty HOME (nothing of the machine leaks in, nothing is left behind).
function run(cmd, args, env, home) {
  return new Promise((resolve) => {
    const child = spawn(path.join(BIN, cmd), args, { cwd: home, env: { PATH: process.env.PATH, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const claude = (gw, home) => run('claude', ['-p', 'say hi', '--output-format', 'text', '--allowedTools', 'Bash'], {
  ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_API_KEY: 'x', DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1',
  ANTHROPIC_MODEL: 'claude-sonnet-4-5', ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5' }, home);

function codex(gw, home) {
  fs.writeFileSync(path.join(home, 'config.toml'), `model = "gpt-5-codex"\nmodel_provider = "qg"\n\n[model_providers.qg]\nname = "quotagate"\n` +
    `base_url = "${gw.url}/v1"\nenv_key = "QG_KEY"\nwire_api = "responses"\n`);
  return run('codex', ['exec', '--skip-git-repo-check', 'say hi'], { CODEX_HOME: home, QG_KEY: 'x' }, home);
}

const home = () => fs.mkdtempSync(path.join(os.tmpdir(), 'qg-client-'));

test('the real clients are installed (npm test runs npm ci in e2e/clients)', () => {
  assert.ok(installed, `missing ${BIN}/claude or codex: run "npm ci --prefix e2e/clients"`);
});

for (const wire of ['chat', 'responses']) {
  test(`Claude Code -> a ${wire} provider: a Bash tool round trip`, { skip: !installed }, async () => {
    const { gw, seen, stop } = await gatewayWith(wire);
    try {
      const r = await claude(gw, home());
      assert.equal(r.code, 0, r.err.slice(-2000));
      assert.match(r.out, /The tool returned: hi/);
      assert.ok(seen.length >= 2, 'the model asked for the tool, then answered');
      assert.ok(seen.every((s) => s.beta === null), 'anthropic-beta never reaches a provider of another format');
      const q = await (await fetch(`${gw.url}/api/quotas`)).json();
      assert.equal(q.packages[0].used, seen.length, 'every upstream call counted once');
    } finally {
      await stop();
    }
  });
}

test('Claude Code -> an anthropic provider: anthropic-beta, anthropic-version and ?beta=true are forwarded', { skip: !installed }, async () => {
  const { gw, seen, stop } = await gatewayWith('messages');
  try {
    const r = await claude(gw, home());
    assert.equal(r.code, 0, r.err.slice(-2000));
    assert.match(r.out, /The tool returned: hi/);
    const calls = seen.filter((s) => s.url.startsWith('/v1/messages'));
    assert.ok(calls.length >= 2);
    for (const s of calls) {
      assert.match(s.url, /\?beta=true$/);
      assert.ok(s.beta, 'anthropic-beta forwarded');
      assert.equal(s.version, '2023-06-01');
    }
  } finally {
    await stop();
  }
});

for (const wire of ['chat', 'messages']) {
  test(`Codex CLI -> a ${wire} provider: a shell tool round trip`, { skip: !installed }, async () => {
    const { gw, seen, stop } = await gatewayWith(wire);
    try {
      const r = await codex(gw, home());
      assert.equal(r.code, 0, `${r.out.slice(-1500)}\n${r.err.slice(-1500)}`);
      assert.match(r.out, /The tool returned: [\s\S]*\bhi\b/);
      assert.ok(seen.length >= 2);
      const q = await (await fetch(`${gw.url}/api/quotas`)).json();
      assert.equal(q.packages[0].used, seen.length);
    } finally {
      await stop();
    }
  });
}

// Subscriptions through the gateway with each user's own login (auth: client): two Claude Code
// users (ANTHROPIC_AUTH_TOKEN, sent as Authorization: Bearer, as an OAuth login is) and one Codex
// CLI user (its key, sent as Bearer) reach the subscription with their own credentials only, and
// become separate accounts.
async function subscriptionGateway(wire, tokens) {
  const fake = await new FakeProvider({ name: `sub-${wire}`, dialect: wire === 'messages' ? 'anthropic' : 'openai', wire, limit: 1000,
    perCredential: true, tokens }).listen(0);
  const backend = { messages: 'anthropic', responses: 'openai-responses' }[wire];
  const gw = await startTestGateway({ extraProviders: [{ name: fake.name, backend, base_url: wire === 'messages' ? fake.url : `${fake.url}/v1`,
    auth: 'client', models: ['*'] }],
  catalog: { sub: { provider_id: fake.name, package_type: 'rolling_window', window_hours: 5, limit_per_window: 1000, models: ['*'] } } });
  return { gw, fake, async stop() { await gw.stop(); await fake.close(); } };
}

test('Claude Code, two users with their own logins: each token reaches the subscription as its own account', { skip: !installed }, async () => {
  const tokens = ['sk-ant-oat01-PLANTED-user-one-51aa', 'sk-ant-oat01-PLANTED-user-two-77bb'];
  const { gw, fake, stop } = await subscriptionGateway('messages', tokens);
  try {
    for (const token of tokens) {
      const before = fake.credentials.length;
      const r = await run('claude', ['-p', 'say hi', '--output-format', 'text', '--allowedTools', 'Bash'], {
        ANTHROPIC_BASE_URL: gw.url, ANTHROPIC_AUTH_TOKEN: token, DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1', ANTHROPIC_MODEL: 'claude-sonnet-4-5', ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5' }, home());
      assert.equal(r.code, 0, r.err.slice(-2000));
      assert.match(r.out, /The tool returned: hi/);
      const mine = fake.credentials.slice(before);
      assert.ok(mine.length >= 2 && mine.every((c) => c === token), `only this user's token went upstream: ${mine.length} calls`);
    }
    const q = await (await fetch(`${gw.url}/api/quotas`)).json();
    assert.equal(q.packages.length, 2, 'two accounts');
    assert.ok(q.packages.every((p) => p.used > 0 && /^[0-9a-f]{12}$/.test(p.account)));
    for (const token of tokens) assert.ok(!gw.logs.text().includes(token) && !JSON.stringify(q).includes(token));
  } finally {
    await stop();
  }
});

test('Codex CLI with its own credential -> an auth: client Responses subscription', { skip: !installed }, async () => {
  const token = 'PLANTED-codex-user-token-3c9d';
  const { gw, fake, stop } = await subscriptionGateway('responses', [token]);
  try {
    const h = home();
    fs.writeFileSync(path.join(h, 'config.toml'), `model = "gpt-5-codex"\nmodel_provider = "qg"\n\n[model_providers.qg]\nname = "quotagate"\n` +
      `base_url = "${gw.url}/v1"\nenv_key = "QG_KEY"\nwire_api = "responses"\n`);
    const r = await run('codex', ['exec', '--skip-git-repo-check', 'say hi'], { CODEX_HOME: h, QG_KEY: token }, h);
    assert.equal(r.code, 0, `${r.out.slice(-1500)}\n${r.err.slice(-1500)}`);
    assert.match(r.out, /The tool returned: [\s\S]*\bhi\b/);
    assert.ok(fake.credentials.length >= 2 && fake.credentials.every((c) => c === token));
    const q = await (await fetch(`${gw.url}/api/quotas`)).json();
    assert.equal(q.packages.length, 1);
    assert.equal(q.packages[0].used, fake.credentials.length);
  } finally {
    await stop();
  }
});
