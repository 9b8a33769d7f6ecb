// The one redactor: it knows every secret the process holds (provider keys and credential headers,
// balance-poller keys, client keys, the admin token, the PostgreSQL URL and password, and any
// credential added at run time) and every outward path goes through it: responses (error
// messages), upstream header lines and bodies before the engine stores them (so /api/quotas,
// /api/state, the dashboard and shared signals never see them), poll errors and logs. pino's
// path redaction covers credential headers should a request object ever be logged.
'use strict';
const { alertSecrets } = require('./alerts/alert-config');
const { telemetrySecrets } = require('./telemetry/telemetry-config');

const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'headers.authorization',
  'headers["x-api-key"]', 'headers.cookie', 'api_key', '*.api_key', 'admin_token', '*.admin_token',
  'management_key', '*.management_key',
];

// Header names whose values are credentials (Azure `api-key`, `x-goog-api-key`, bearer tokens ...).
const CREDENTIAL_HEADER = /(^|-)(authorization|api-?key|key|token|secret|password|cookie)$|^x-.*-(key|token|secret)$/i;
const MIN_SECRET = 4;
const MIN_CLIENT_SECRET = 8;  // shorter strings would redact ordinary text

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
  out.push(...alertSecrets(config.alerts));
  out.push(...telemetrySecrets(config.telemetry));
  return out;
}

class Redactor {
  constructor(secrets = []) {
    this.secrets = [];
    this.buffers = [];
    this.add(...secrets);
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

  // A view that also knows `credential` (a client's own login, forwarded for one request): used for
  // everything that request's upstream answers reach (its responses, error messages, the readings
  // taken from it). The process-wide redactor never learns it, so a caller cannot make the gateway
  // redact arbitrary text in other callers' answers. Credentials shorter than 8 are not searched
  // for (they would mangle the caller's own answers; no real login is that short).
  withCredential(credential) {
    if (typeof credential !== 'string' || credential.length < MIN_CLIENT_SECRET) return this;
    const forms = [...new Set([credential, JSON.stringify(credential).slice(1, -1), encodeURIComponent(credential)])];
    const buffers = forms.map((f) => Buffer.from(f, 'utf8'));
    const base = this;
    return {
      text(value) {
        if (typeof value !== 'string') return value;
        let out = value;
        for (const f of forms) if (out.includes(f)) out = out.split(f).join('[redacted]');
        return base.text(out);
      },
      bytes(value) {
        if (!Buffer.isBuffer(value)) return this.text(value);
        for (const b of buffers) if (value.indexOf(b) !== -1) return this.text(value.toString('utf8'));
        return base.bytes(value);
      },
    };
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
