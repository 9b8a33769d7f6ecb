// `quotagate serve`: resolves the configuration (or demo mode), starts the gateway, prints where
// it listens, and stops cleanly on SIGINT/SIGTERM.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadConfig, normalise, defaultConfigDir, defaultDataDir, ConfigError } = require('../config');
const { startGateway } = require('../serve');

function resolveConfig(opts) {
  const explicit = opts.config || process.env.QUOTAGATE_CONFIG;
  const implicit = path.join(defaultConfigDir(), 'config.yaml');
  if (explicit) return loadConfig(explicit);
  if (fs.existsSync(implicit)) return loadConfig(implicit);
  return normalise({}, '(defaults)');
}

async function serve(opts) {
  let config;
  try {
    config = resolveConfig(opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`quotagate: ${err.message}\n`);
      process.exitCode = 2;
      return null;
    }
    throw err;
  }
  if (opts.host) config.server.host = opts.host;
  const port = opts.port ?? process.env.PORT;
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      process.stderr.write(`quotagate: --port: expected a port number 0..65535, got "${port}"\n`);
      process.exitCode = 2;
      return null;
    }
    config.server.port = n;
  }
  try {
    normalise({ server: { host: config.server.host, admin_token: config.server.admin_token } }, config.file || '(defaults)');
  } catch (err) {
    process.stderr.write(`quotagate: ${err.message}\n`);
    process.exitCode = 2;
    return null;
  }
  // A provider is usable when it has a credential of its own or takes each caller's (auth: client).
  const hasKeys = config.providers.some((p) => p.api_key || p.auth === 'client' || p.accounts.length || Object.keys(p.headers).length);
  const demo = Boolean(opts.demo || config.demo || !hasKeys);
  const dataDir = opts.dataDir || process.env.QUOTAGATE_DATA_DIR || path.join(defaultDataDir(), demo ? 'demo' : '');
  const gw = await startGateway({ config, demo, dataDir });
  const base = gw.url.replace('127.0.0.1', 'localhost');
  if (demo) {
    process.stdout.write([
      '',
      `quotagate DEMO MODE: no provider keys are configured, so ${gw.providers.length} simulated providers on 127.0.0.1 answer instead.`,
      `  quotas:    ${base}/api/quotas`,
      `  dashboard: ${base}/dashboard/quotas`,
      `  try:       curl -s ${base}/v1/chat/completions -H 'content-type: application/json' \\`,
      `               -d '{"model":"auto","messages":[{"role":"user","content":"hi"}]}'`,
      `  accounts:  claude-max takes each caller's own login (auth: client); two tokens are two accounts:`,
      ...['alice', 'bob'].flatMap((who) => [
        `             curl -s ${base}/v1/messages -H 'content-type: application/json' -H 'authorization: Bearer demo-token-${who}' \\`,
        `               -d '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}'`]),
      `             then: curl -s ${base}/api/quotas | jq '.packages[] | select(.provider_id == "claude-max") | {account, used}'`,
      `  data:      ${dataDir}`,
      '',
    ].join('\n') + '\n');
  } else {
    process.stdout.write(`quotagate listening on ${gw.url} (${gw.providers.length} providers)\n`);
  }
  const stop = async () => {
    await gw.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return gw;
}

module.exports = { serve };
