// `quotagate accounts fingerprint`: reads one credential from stdin and prints the fingerprint the
// gateway gives it (12 hex digits), so the operator can name the account in config
// (providers[].accounts: [{name, fingerprint}]). The credential is never printed or stored; the
// secret is the gateway's own (the ledger dir's account-secret, or the fleet's in PostgreSQL).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadConfig, defaultConfigDir, defaultDataDir, ConfigError } = require('../config');
const { InputError } = require('../ledger-jsonl');
const { loadAccountSecret, loadSharedAccountSecret, fingerprint } = require('../accounts');

// opts: { config?, ledgerDir?, demo? } and the credential text (stdin). Returns the fingerprint.
async function fingerprintCommand(opts, input) {
  const token = String(input).trim().replace(/^Bearer\s+/i, '');
  if (!token || /\s/.test(token)) throw new InputError('stdin: expected one credential (a token or key, optionally "Bearer ...") on one line');
  if (token.length > 8192) throw new InputError('stdin: a credential is at most 8192 characters');
  let dir = opts.ledgerDir;
  let pgSettings = null;
  if (!dir && opts.demo) dir = path.join(process.env.QUOTAGATE_DATA_DIR || path.join(defaultDataDir(), 'demo'), 'ledger');
  if (!dir) {
    const file = opts.config || process.env.QUOTAGATE_CONFIG || path.join(defaultConfigDir(), 'config.yaml');
    let config;
    try {
      config = fs.existsSync(file) || opts.config ? loadConfig(file) : null;
    } catch (err) {
      if (err instanceof ConfigError) throw new InputError(err.message);
      throw err;
    }
    if (config && config.ledger.backend === 'postgres') pgSettings = config.ledger.postgres;
    dir = config ? config.ledger.dir : path.join(defaultDataDir(), 'ledger');
  }
  let secret;
  if (pgSettings) {
    const pg = require('pg');
    const client = new pg.Client({ connectionString: pgSettings.url, connectionTimeoutMillis: pgSettings.connect_timeout_ms, application_name: 'quotagate cli' });
    client.on('error', () => {});
    try {
      await client.connect();
      secret = await loadSharedAccountSecret(client);
    } catch (err) {
      throw new InputError(`postgres: cannot read the fleet's account secret (${err.code || 'connection failed'}); run \`quotagate db migrate\` first`);
    } finally {
      await client.end().catch(() => {});
    }
  } else {
    try {
      secret = loadAccountSecret(dir, { create: false });
    } catch (err) {
      throw new InputError(err.message);
    }
  }
  return fingerprint(secret, token);
}

module.exports = { fingerprintCommand };
