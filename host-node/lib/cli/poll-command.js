// `quotagate poll --once`: one round of balance polls through the same CatalogStore and poller the
// gateway uses, then a line per package with what changed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadConfig, normalise, defaultConfigDir, ConfigError } = require('../config');
const { loadCore } = require('../core');
const { CatalogStore } = require('../catalog-store');
const { BalancePoller } = require('../poller/poller');
const { Redactor } = require('../redact');
const { InputError } = require('../ledger-jsonl');
const { catalogValidator } = require('../engine-session');

async function pollOnce(opts) {
  let config;
  try {
    const implicit = path.join(defaultConfigDir(), 'config.yaml');
    config = opts.config ? loadConfig(opts.config) : fs.existsSync(implicit) ? loadConfig(implicit) : normalise({}, '(defaults)');
  } catch (err) {
    if (err instanceof ConfigError) throw new InputError(err.message);
    throw err;
  }
  const core = await loadCore();
  const file = path.join(config.metadata_dir, 'packages', 'catalog.v1.json');
  const store = new CatalogStore({ file, validate: catalogValidator(core, file), apply: () => {} });
  const err = store.load();
  if (err) throw new InputError(err);
  const secrets = [...config.providers.map((p) => p.api_key), ...Object.values(config.quota_poll.providers).flatMap((p) => [p.api_key, p.management_key])];
  const redactor = new Redactor(secrets);
  const poller = new BalancePoller({ settings: { ...config.quota_poll, enabled: true }, store, providers: config.providers, redact: (t) => redactor.text(t) });
  const results = await poller.pollOnce();
  if (!results.length) process.stdout.write('no api_poll credit packages with a known balance API (deepseek, openrouter, kilo, moonshot)\n');
  for (const r of results) {
    const b = r.before || {};
    const a = r.after || {};
    process.stdout.write(`${r.package_id.padEnd(24)}  used ${b.used_credits ?? '-'} -> ${a.used_credits ?? '-'}  total ${b.total_credits ?? '-'} -> ${a.total_credits ?? '-'}` +
      `${r.error ? `  error: ${r.error}` : `  (${r.endpoint})`}\n`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

module.exports = { pollOnce };
