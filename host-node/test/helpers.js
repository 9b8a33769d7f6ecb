// Test helpers: fake upstreams, a gateway on an ephemeral loopback port with a temporary data
// directory and an in-memory log, and small HTTP helpers.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Writable } = require('node:stream');
const { spawn } = require('node:child_process');
const { FakeProvider } = require('../lib/demo/fake-provider');
const { normalise } = require('../lib/config');
const { startGateway } = require('../lib/serve');

function tmpDir(prefix = 'qg-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

class LogCapture extends Writable {
  constructor() {
    super();
    this.lines = [];
  }
  _write(chunk, enc, cb) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  text() {
    return this.lines.join('\n');
  }
}

// fakes: { name: {dialect, limit, windowMs, latencyMs, backend, models, api_key, timeout_ms} }
// catalog: the packages object. server: extra server config.
async function startTestGateway({ fakes = {}, catalog = {}, server = {}, routing = {}, ledger = {}, dataDir, extraProviders = [], extraFirst = false,
  modelGroups, alerts, alertIntervalMs = 3600000, telemetry } = {}) {
  const dir = dataDir || tmpDir();
  const fakeMap = {};
  const providers = [];
  for (const [name, spec] of Object.entries(fakes)) {
    const fake = await new FakeProvider({ name, dialect: spec.dialect || 'openai', limit: spec.limit ?? 1000, windowMs: spec.windowMs ?? 60000, latencyMs: spec.latencyMs ?? 1,
      perCredential: Boolean(spec.perCredential), tokens: spec.tokens || null, families: spec.families || [] }).listen(0);
    fakeMap[name] = fake;
    const anthropic = (spec.backend || (spec.dialect === 'anthropic' ? 'anthropic' : 'openai-compat')) === 'anthropic';
    providers.push({ name, backend: anthropic ? 'anthropic' : 'openai-compat', base_url: anthropic ? fake.url : `${fake.url}/v1`,
      api_key: spec.auth === 'client' ? undefined : spec.api_key ?? `sk-test-${name}-0000`, models: spec.models || ['*'], timeout_ms: spec.timeout_ms ?? 5000,
      price: spec.price || { input_per_1m: 1, output_per_1m: 2 },
      ...(spec.auth ? { auth: spec.auth } : {}), ...(spec.accounts ? { accounts: spec.accounts } : {}), ...(spec.overage ? { overage: spec.overage } : {}) });
  }
  if (extraFirst) providers.unshift(...extraProviders);
  else providers.push(...extraProviders);
  const metadata = path.join(dir, 'metadata');
  fs.mkdirSync(path.join(metadata, 'packages'), { recursive: true });
  fs.writeFileSync(path.join(metadata, 'packages', 'catalog.v1.json'), JSON.stringify({ schema_version: 1, packages: catalog }, null, 2));
  const config = normalise({
    server: { port: 0, ...server }, providers, routing, metadata_dir: metadata, ...(modelGroups ? { model_groups: modelGroups } : {}), ...(alerts ? { alerts } : {}),
    ...(telemetry ? { telemetry } : {}), ledger: { dir: path.join(dir, 'ledger'), checkpoint_interval_s: 0.2, ...ledger }, log_level: 'info',
  }, path.join(dir, 'config.yaml'));
  const logs = new LogCapture();
  const gw = await startGateway({ config, logStream: logs, alertIntervalMs });
  return {
    ...gw, fakes: fakeMap, logs, dir, config,
    async stop() {
      await gw.close();
      await Promise.all(Object.values(fakeMap).map((f) => f.close()));
    },
  };
}

async function postJson(url, body, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch { /* streaming or non-JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// A gateway in its own process (test/fixtures/gateway-child.js), for kill -9 tests. extra: see there.
async function startChildGateway(dir, upstream, extra = null) {
  const args = [path.join(__dirname, 'fixtures', 'gateway-child.js'), dir, upstream, ...(extra ? [JSON.stringify(extra)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-20000); });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr.slice(-2000)}`)));
  });
  return { child, url, stderr: () => stderr, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

module.exports = { tmpDir, LogCapture, startTestGateway, startChildGateway, postJson, chat };
