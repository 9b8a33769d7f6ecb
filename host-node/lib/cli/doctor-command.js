// `quotagate doctor`: checks an install and prints each problem with its fix. Never prints a key.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadConfig, normalise, defaultConfigDir } = require('../config');
const { portInUse } = require('./service-command');

const KEY_VARS = { deepseek: 'DEEPSEEK_API_KEY', openrouter: 'OPENROUTER_API_KEY', kilo: 'KILO_API_KEY', moonshot: 'MOONSHOT_API_KEY' };

async function doctor({ config, out = process.stdout }) {
  const problems = [];
  const ok = (m) => out.write(`ok    ${m}\n`);
  const bad = (m, fix) => {
    problems.push(m);
    out.write(`FAIL  ${m}\n      fix: ${fix}\n`);
  };
  const file = path.resolve(config || path.join(defaultConfigDir(), 'config.yaml'));
  let cfg = null;
  if (!fs.existsSync(file)) {
    bad(`${file}: no config file`, 'run "quotagate init", or pass --config FILE');
    cfg = normalise({}, '(defaults)');
  } else {
    try {
      cfg = loadConfig(file);
      ok(`config ${file} is valid (${cfg.providers.length} providers)`);
    } catch (err) {
      bad(err.message, 'edit the key named above; docs/config.md lists every key');
    }
  }
  let core = null;
  try {
    core = await require('../core').loadCore();
    ok(`wasm engine loads (${require('../core').wasmDir()})`);
  } catch (err) {
    bad(`wasm engine does not load: ${err.message}`, 'reinstall the package, or run "npm run build" in a checkout');
  }
  if (!cfg) {
    out.write(`\n${problems.length} problem(s)\n`);
    return problems;
  }
  const catalog = path.join(cfg.metadata_dir, 'packages', 'catalog.v1.json');
  if (!fs.existsSync(catalog)) {
    bad(`${catalog}: no catalog`, 'copy docs/examples/metadata/packages/catalog.v1.json there (quotagate init does) and list your packages');
  } else if (core) {
    const e = new core.Engine();
    const r = e.loadCatalog(fs.readFileSync(catalog, 'utf8'), catalog);
    e.delete();
    if (!r.ok) bad(r.error, 'fix the catalog at the position named above');
    else {
      const skipped = JSON.parse(r.skippedJson);
      if (skipped.length) for (const s of skipped) bad(`catalog entry ${s.package_id} skipped: ${s.reason}`, 'correct that field (docs/catalog.md)');
      else ok(`catalog ${catalog}: ${r.loaded} packages`);
    }
  }
  for (const p of cfg.providers) {
    if (p.api_key) ok(`provider ${p.name}: key is set`);
    else bad(`provider ${p.name}: no api_key`, `set the variable its config.yaml api_key refers to (for example in ${path.join(path.dirname(file), '.env')})`);
  }
  if (cfg.quota_poll.enabled) {
    for (const [name, variable] of Object.entries(KEY_VARS)) {
      const configured = (cfg.quota_poll.providers[name] || {}).api_key || (cfg.providers.find((p) => p.name === name) || {}).api_key;
      if (!configured && !process.env[variable]) out.write(`note  balance polls for ${name} packages need ${variable} (not set)\n`);
    }
  }
  if (await portInUse(cfg.server.port, cfg.server.host === '0.0.0.0' ? '127.0.0.1' : cfg.server.host)) {
    bad(`port ${cfg.server.port} on ${cfg.server.host} is in use`, 'stop the other process, or set server.port');
  } else ok(`port ${cfg.server.port} on ${cfg.server.host} is free`);
  try {
    fs.mkdirSync(cfg.ledger.dir, { recursive: true });
    const probe = path.join(cfg.ledger.dir, `.doctor-${process.pid}`);
    fs.writeFileSync(probe, 'x');
    fs.rmSync(probe);
    ok(`ledger directory ${cfg.ledger.dir} is writable`);
  } catch (err) {
    bad(`ledger directory ${cfg.ledger.dir} is not writable (${err.code || err.message})`, 'fix its permissions, or set ledger.dir');
  }
  if (cfg.ledger.backend === 'postgres') {
    try {
      const s = await require('./db-command').dbStatus({ config: file }, { write() {} });
      if (s.pending.length) bad(`shared ledger: schema at v${s.version}, v${s.latest} needed`, 'run "quotagate db migrate" (the gateway also migrates on start)');
      else ok(`shared ledger reachable, schema v${s.version}, ${s.instances.length} instance(s) registered`);
    } catch (err) {
      bad(`shared ledger: ${err.message}`, 'check ledger.postgres.url and that PostgreSQL accepts connections from here');
    }
  }
  out.write(problems.length ? `\n${problems.length} problem(s)\n` : '\nall good\n');
  return problems;
}

module.exports = { doctor };
