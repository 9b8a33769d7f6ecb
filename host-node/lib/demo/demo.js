// Demo mode: simulated providers on loopback ports for every provider of the template catalog,
// each speaking a real dialect with realistic latency and limits, plus a copy of the template
// catalog in the demo data directory. Nothing here touches the network beyond 127.0.0.1.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { FakeProvider } = require('./fake-provider');
const { writeAtomic } = require('../atomic-write');
const { CLIENT_FORWARD_DEFAULT } = require('../config');

const TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'docs', 'examples', 'metadata', 'packages', 'catalog.v1.json');
const HOUR = 3600000;

// provider id -> how its simulator behaves. Limits are per window, as the real plans count them.
const SIMULATED = {
  kilo: { dialect: 'openai', limit: 600, windowMs: 60000, latencyMs: 180, backend: 'openai-compat', price: [3, 15] },
  deepseek: { dialect: 'openai', limit: 600, windowMs: 60000, latencyMs: 240, backend: 'openai-compat', price: [0.27, 1.1] },
  blackbox: { dialect: 'openai', limit: 300, windowMs: 60000, latencyMs: 320, backend: 'openai-compat', price: [1, 4] },
  // A subscription reached with each caller's own login (auth: client): every Bearer token is an
  // account with its own 5 h window and a weekly Opus limit.
  'claude-max': { dialect: 'anthropic', limit: 225, windowMs: 5 * HOUR, latencyMs: 420, backend: 'anthropic', price: [0, 0], auth: 'client',
    perCredential: true, families: [{ family: 'opus', match: /opus/, limit: 40 }], models: ['claude-*'] },
  'claude-pro': { dialect: 'anthropic', limit: 45, windowMs: 5 * HOUR, latencyMs: 450, backend: 'anthropic', price: [0, 0] },
  'openai-plus': { dialect: 'openai', limit: 80, windowMs: 3 * HOUR, latencyMs: 380, backend: 'openai-compat', price: [0, 0] },
  qwen: { dialect: 'openai', limit: 2000, windowMs: 24 * HOUR, latencyMs: 260, backend: 'openai-compat', price: [0, 0] },
  gemini: { dialect: 'gemini', limit: 100, windowMs: 24 * HOUR, latencyMs: 220, backend: 'openai-compat', price: [0, 0] },
  'gemini-cli': { dialect: 'gemini', limit: 1000, windowMs: 24 * HOUR, latencyMs: 300, backend: 'openai-compat', price: [0, 0] },
  'gemini-antigravity': { dialect: 'gemini', limit: 500, windowMs: 24 * HOUR, latencyMs: 280, backend: 'openai-compat', price: [0, 0] },
  openrouter: { dialect: 'openrouter', limit: 50, windowMs: 24 * HOUR, latencyMs: 350, backend: 'openai-compat', price: [0, 0], models: ['openrouter/auto', '*'] },
};

// The demo's own package beside the template's: the claude-max subscription, one state per login.
const DEMO_PACKAGES = {
  'claude-max-5h': {
    provider_id: 'claude-max', package_type: 'rolling_window', window_hours: 5, limit_per_window: 225, window_mode: 'fixed',
    secondary_windows: [{ name: '7d', window_hours: 168, limit: 4500 }],
    model_windows: [{ family: 'opus', window_hours: 168, limit: 200 }],
    model_weights: { 'claude-opus': 5, 'claude-sonnet': 1, 'claude-haiku': 0.5 }, models: ['claude-*'],
    source: 'header_capture', confidence: 'medium', last_updated: '2026-11-28T00:00:00Z',
    notes: 'Demo: Claude Max reached with each caller\'s own login (auth: client). Every token is an account with its own windows.',
  },
};

async function startDemo({ dataDir }) {
  const metadataDir = path.join(dataDir, 'metadata');
  const catalogFile = path.join(metadataDir, 'packages', 'catalog.v1.json');
  if (!fs.existsSync(catalogFile)) {
    fs.mkdirSync(path.dirname(catalogFile), { recursive: true });
    const doc = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
    Object.assign(doc.packages, DEMO_PACKAGES);
    writeAtomic(catalogFile, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const catalog = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const modelsOf = (provider) => [...new Set(Object.values(catalog.packages)
    .filter((p) => p.provider_id === provider).flatMap((p) => p.models || Object.keys(p.model_weights || {})))];
  const fakes = [];
  const providers = [];
  for (const [name, sim] of Object.entries(SIMULATED)) {
    const fake = await new FakeProvider({ name, dialect: sim.dialect, limit: sim.limit, windowMs: sim.windowMs, latencyMs: sim.latencyMs,
      perCredential: Boolean(sim.perCredential), families: sim.families || [] }).listen(0);
    fakes.push(fake);
    providers.push({
      name,
      backend: sim.backend,
      base_url: sim.backend === 'anthropic' ? fake.url : `${fake.url}/v1`,
      api_key: '',
      models: sim.models || modelsOf(name),
      price: { input_per_1m: sim.price[0], output_per_1m: sim.price[1] },
      timeout_ms: 30000,
      headers: {},
      auth: sim.auth || 'key',
      overage: 'allow',
      forward_headers: sim.auth === 'client' ? CLIENT_FORWARD_DEFAULT : [],
      accounts: [],
    });
  }
  return {
    providers,
    metadataDir,
    ledgerDir: path.join(dataDir, 'ledger'),
    close: () => Promise.all(fakes.map((f) => f.close())),
  };
}

module.exports = { startDemo, SIMULATED };
