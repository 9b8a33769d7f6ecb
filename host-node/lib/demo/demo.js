// Demo mode: simulated providers on loopback ports for every provider of the template catalog,
// each speaking a real dialect with realistic latency and limits, plus a copy of the template
// catalog in the demo data directory. Nothing here touches the network beyond 127.0.0.1.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { FakeProvider } = require('./fake-provider');

const TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'docs', 'examples', 'metadata', 'packages', 'catalog.v1.json');
const HOUR = 3600000;

// provider id -> how its simulator behaves. Limits are per window, as the real plans count them.
const SIMULATED = {
  kilo: { dialect: 'openai', limit: 600, windowMs: 60000, latencyMs: 180, backend: 'openai-compat', price: [3, 15] },
  deepseek: { dialect: 'openai', limit: 600, windowMs: 60000, latencyMs: 240, backend: 'openai-compat', price: [0.27, 1.1] },
  blackbox: { dialect: 'openai', limit: 300, windowMs: 60000, latencyMs: 320, backend: 'openai-compat', price: [1, 4] },
  'claude-pro': { dialect: 'anthropic', limit: 45, windowMs: 5 * HOUR, latencyMs: 450, backend: 'anthropic', price: [0, 0] },
  'openai-plus': { dialect: 'openai', limit: 80, windowMs: 3 * HOUR, latencyMs: 380, backend: 'openai-compat', price: [0, 0] },
  qwen: { dialect: 'openai', limit: 2000, windowMs: 24 * HOUR, latencyMs: 260, backend: 'openai-compat', price: [0, 0] },
  gemini: { dialect: 'gemini', limit: 100, windowMs: 24 * HOUR, latencyMs: 220, backend: 'openai-compat', price: [0, 0] },
  'gemini-cli': { dialect: 'gemini', limit: 1000, windowMs: 24 * HOUR, latencyMs: 300, backend: 'openai-compat', price: [0, 0] },
  'gemini-antigravity': { dialect: 'gemini', limit: 500, windowMs: 24 * HOUR, latencyMs: 280, backend: 'openai-compat', price: [0, 0] },
  openrouter: { dialect: 'openrouter', limit: 50, windowMs: 24 * HOUR, latencyMs: 350, backend: 'openai-compat', price: [0, 0], models: ['openrouter/auto', '*'] },
};

async function startDemo({ dataDir }) {
  const metadataDir = path.join(dataDir, 'metadata');
  const catalogFile = path.join(metadataDir, 'packages', 'catalog.v1.json');
  if (!fs.existsSync(catalogFile)) {
    fs.mkdirSync(path.dirname(catalogFile), { recursive: true });
    fs.copyFileSync(TEMPLATE, catalogFile);
  }
  const catalog = JSON.parse(fs.readFileSync(TEMPLATE, 'utf8'));
  const modelsOf = (provider) => [...new Set(Object.values(catalog.packages)
    .filter((p) => p.provider_id === provider).flatMap((p) => p.models || Object.keys(p.model_weights || {})))];
  const fakes = [];
  const providers = [];
  for (const [name, sim] of Object.entries(SIMULATED)) {
    const fake = await new FakeProvider({ name, dialect: sim.dialect, limit: sim.limit, windowMs: sim.windowMs, latencyMs: sim.latencyMs }).listen(0);
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
