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
