// Accounts: who a request's credential is, without keeping the credential. Owns the account secret
// (the HMAC-SHA256 key of credential fingerprints: 32 random bytes generated once per data dir,
// file mode 600, or once per fleet in PostgreSQL), the fingerprint (the first 12 hex digits of
// HMAC-SHA256(secret, credential)), and reading a client's own credential off a request.
// A fingerprint names an account in config, the ledger and /api/quotas; the credential itself is
// held only for the request that carries it (and by the redactor, which must know it).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const SECRET_FILE = 'account-secret';
const FINGERPRINT = /^[0-9a-f]{12}$/;
const MAX_CREDENTIAL = 8192;  // an OAuth access token (a JWT) is a few KB at most
const TOKEN = /^[\x21-\x7e]{1,8192}$/;  // printable ASCII, as every real key and OAuth token is

// The data dir's account secret (Buffer, 32 bytes), created on first use with O_EXCL and mode
// 600, so that two processes starting at once agree on one. Throws with the file named.
// create: false (the CLI) fails instead of making a secret no gateway uses.
function loadAccountSecret(dir, { create = true } = {}) {
  const file = path.join(dir, SECRET_FILE);
  if (!create && !fs.existsSync(file)) {
    throw new Error(`${file}: no account secret yet; the gateway creates it when it starts with an auth: client provider (or pass --ledger-dir / --config for the right data dir)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const read = () => {
    const hex = fs.readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file}: expected 64 hex digits (the account secret); delete it to start new fingerprints`);
    return Buffer.from(hex, 'hex');
  };
  if (fs.existsSync(file)) return read();
  const hex = crypto.randomBytes(32).toString('hex');
  try {
    // Written whole before it is renamed into place, then linked exclusively: a reader never sees
    // a partial secret, and of two racing writers one wins.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, `${hex}\n`, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
    } finally {
      fs.unlinkSync(tmp);
    }
  } catch (err) {
    if (err.code !== 'EEXIST') throw new Error(`${file}: cannot create the account secret (${err.code || err.message})`);
  }
  return read();
}

// The fleet's account secret in PostgreSQL (qg_settings.account_secret), created once.
async function loadSharedAccountSecret(client) {
  const hex = crypto.randomBytes(32).toString('hex');
  await client.query("INSERT INTO qg_settings (key, value) VALUES ('account_secret', $1) ON CONFLICT (key) DO NOTHING", [hex]);
  const { rows } = await client.query("SELECT value FROM qg_settings WHERE key = 'account_secret'");
  return Buffer.from(rows[0].value, 'hex');
}

// 12 hex digits naming `credential` under `secret` (a Buffer).
function fingerprint(secret, credential) {
  return crypto.createHmac('sha256', secret).update(String(credential), 'utf8').digest('hex').slice(0, 12);
}

// The client's own credential on a request: { header: 'authorization' | 'x-api-key', value, token }
// (token: without "Bearer "), or null. With gateway client keys configured, the gateway key
// travels in x-quotagate-key and Authorization / x-api-key are the client's own; without
// x-quotagate-key they hold the gateway key, and the client forwards nothing.
function clientCredential(headers, { gatewayKeys = false } = {}) {
  if (gatewayKeys && typeof headers['x-quotagate-key'] !== 'string') return null;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length <= MAX_CREDENTIAL) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m && TOKEN.test(m[1])) return { header: 'authorization', value: `Bearer ${m[1]}`, token: m[1] };
  }
  const key = headers['x-api-key'];
  if (typeof key === 'string' && TOKEN.test(key)) return { header: 'x-api-key', value: key, token: key };
  return null;
}

// Fingerprints of recent credentials, so a busy caller costs one HMAC, not one per request.
class FingerprintCache {
  constructor(secret, max = 1024) {
    Object.assign(this, { secret, max, map: new Map() });
  }

  of(token) {
    let fp = this.map.get(token);
    if (fp) return fp;
    fp = fingerprint(this.secret, token);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value);
    this.map.set(token, fp);
    return fp;
  }
}

module.exports = { loadAccountSecret, loadSharedAccountSecret, fingerprint, clientCredential, FingerprintCache, FINGERPRINT, SECRET_FILE };
