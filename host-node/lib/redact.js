// The one redactor: it knows every secret the process holds (provider keys and credential headers,
// balance-poller keys, client keys, the admin token, the PostgreSQL URL and password, and any
// credential added at run time) and every outward path goes through it: responses (error
// messages), upstream header lines and bodies before the engine stores them (so /api/quotas,
// /api/state, the dashboard and shared signals never see them), poll errors and logs. pino's
// path redaction covers credential headers should a request object ever be logged.
'use strict';

const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'headers.authorization',
  'headers["x-api-key"]', 'headers.cookie', 'api_key', '*.api_key', 'admin_token', '*.admin_token',
  'management_key', '*.management_key',
];

// Header names whose values are credentials (Azure `api-key`, `x-goog-api-key`, bearer tokens ...).
const CREDENTIAL_HEADER = /(^|-)(authorization|api-?key|key|token|secret|password|cookie)$|^x-.*-(key|token|secret)$/i;
const MIN_SECRET = 4;
const MAX_CLIENT_CREDENTIALS = 256;  // shorter strings would redact ordinary text

// Every secret in a normalised config (config.js normalise()).
function configSecrets(config) {
  const out = [];
  const headerSecrets = (headers) => {
    for (const [k, v] of Object.entries(headers || {})) if (CREDENTIAL_HEADER.test(k)) out.push(v, String(v).replace(/^(Bearer|Basic)\s+/i, ''));
  };
  for (const p of config.providers || []) {
    out.push(p.api_key);
    headerSecrets(p.headers);
    for (const a of p.accounts || []) {
      out.push(a.api_key);
      headerSecrets(a.headers);
    }
  }
  for (const p of Object.values((config.quota_poll && config.quota_poll.providers) || {})) out.push(p.api_key, p.management_key);
  if (config.server) out.push(config.server.admin_token, ...(config.server.client_keys || []));
  const pg = config.ledger && config.ledger.postgres;
  if (pg) out.push(pg.url, pg.password);
  return out;
}

class Redactor {
  constructor(secrets = []) {
    this.secrets = [];
    this.buffers = [];
    this.add(...secrets);
    this.config = new Set(this.secrets);  // never forgotten
  }

  // Adds secrets (a client's forwarded credential, say); strings shorter than 4 are ignored.
  // Each is also known in its JSON-escaped and URL-encoded spellings.
  add(...secrets) {
    const all = new Set(this.secrets);
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < MIN_SECRET) continue;
      all.add(s);
      all.add(JSON.stringify(s).slice(1, -1));
      all.add(encodeURIComponent(s));
    }
    this.secrets = [...all].sort((a, b) => b.length - a.length);
    this.buffers = this.secrets.map((s) => Buffer.from(s, 'utf8'));
  }

  // A client's own credential, forwarded for one request (auth: client providers). The most recent
  // MAX_CLIENT_CREDENTIALS are known; an older one is forgotten (its requests are long over).
  addClient(credential) {
    if (typeof credential !== 'string' || credential.length < MIN_SECRET) return;
    this.clients ??= new Set();
    if (this.clients.has(credential)) return;
    if (this.clients.size >= MAX_CLIENT_CREDENTIALS) {
      const oldest = this.clients.values().next().value;
      this.clients.delete(oldest);
      const drop = new Set([oldest, JSON.stringify(oldest).slice(1, -1), encodeURIComponent(oldest)]);
      this.secrets = this.secrets.filter((s) => !drop.has(s) || this.config.has(s));
      this.buffers = this.secrets.map((s) => Buffer.from(s, 'utf8'));
    }
    this.clients.add(credential);
    this.add(credential);
  }

  text(value) {
    if (typeof value !== 'string' || !this.secrets.length) return value;
    let out = value;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }

  // Header lines as a Buffer (or text): the same Buffer when it holds no secret (the common case,
  // a byte search per secret), else the redacted text.
  bytes(value) {
    if (!Buffer.isBuffer(value)) return this.text(value);
    for (const b of this.buffers) if (value.indexOf(b) !== -1) return this.text(value.toString('utf8'));
    return value;
  }
}

module.exports = { Redactor, REDACT_PATHS, configSecrets, CREDENTIAL_HEADER };
