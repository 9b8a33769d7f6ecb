// Keeps secrets out of everything the gateway emits: provider keys, client keys and the admin
// token are replaced wherever they appear in text we pass on (upstream error messages included),
// and pino's redaction covers credential headers should a request object ever be logged.
'use strict';

const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'headers.authorization',
  'headers["x-api-key"]', 'headers.cookie', 'api_key', '*.api_key', 'admin_token', '*.admin_token',
];

class Redactor {
  constructor(secrets) {
    this.secrets = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= 4))].sort((a, b) => b.length - a.length);
  }

  text(value) {
    if (typeof value !== 'string' || !this.secrets.length) return value;
    let out = value;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }
}

module.exports = { Redactor, REDACT_PATHS };
