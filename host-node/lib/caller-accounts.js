// The callers' own logins (providers with auth: client): which credential a request brings, the
// account it becomes at each provider that speaks the client's wire format (a fingerprint, never
// the credential), the least recently used one dropped past MAX_CLIENT_ACCOUNTS, and which of
// those providers a request may not be routed to. Accounts being served are never dropped.
'use strict';
const { BACKEND_FORMAT } = require('./wire');
const { clientCredential } = require('./accounts');

// Accounts of auth: client providers a gateway creates from callers' credentials, per provider:
// past this, new credentials are served by other providers (and a warning says so).
const MAX_CLIENT_ACCOUNTS = 200;

class CallerAccounts {
  // providers: the config's providers (only auth: client ones matter); fingerprints: a
  // FingerprintCache (accounts.js) or null; clientKeys: the gateway's own keys (never a caller's
  // credential); engine: the wasm Engine (accounts are added to and removed from it); log: pino.
  constructor({ providers, fingerprints, clientKeys, engine, log }) {
    Object.assign(this, { fingerprints, engine, log });
    this.clientKeys = new Set(clientKeys);
    this.gatewayKeys = clientKeys.length > 0;  // then a caller's own credential comes with x-quotagate-key
    this.providers = providers.filter((p) => p.auth === 'client');
    // Per provider, its accounts in least recently used first order (configured ones included).
    this.accounts = new Map(this.providers.map((p) => [p.name, new Set((p.accounts || []).map((a) => a.fingerprint))]));
    this.inflight = new Map();  // account -> requests being served now (never evicted meanwhile)
  }

  // The caller's own credential and its account for this request, or null. A credential is a
  // candidate only at auth: client providers that speak the client's wire format (it was issued
  // for that API); each new one becomes an account of those providers (at most
  // MAX_CLIENT_ACCOUNTS each).
  callerOf(req, kind) {
    if (!this.providers.length || !this.fingerprints) return null;
    const credential = clientCredential(req.headers, { gatewayKeys: this.gatewayKeys });
    // The gateway's own key is never a client's credential, whichever header it came in.
    if (!credential || this.clientKeys.has(credential.token)) return null;
    const account = this.fingerprints.of(credential.token);
    for (const p of this.providers) {
      if ((BACKEND_FORMAT[p.backend] || 'chat') !== kind) continue;
      const known = this.accounts.get(p.name);  // insertion order = least recently used first
      if (known.has(account)) {
        known.delete(account);
        known.add(account);
        continue;
      }
      if (known.size >= MAX_CLIENT_ACCOUNTS) {
        // Logins rotate: the least recently used account makes room (its usage stays in the ledger
        // and comes back if that credential does). Configured (named) accounts are never evicted.
        const named = new Set((p.accounts || []).map((a) => a.fingerprint));
        const lru = [...known].find((a) => !named.has(a) && !this.inflight.has(a));
        if (!lru) continue;
        this.drop(p, lru);
        this.log.info({ provider: p.name, accounts: known.size + 1 }, 'client accounts at the limit; the least recently used one was dropped');
      }
      known.add(account);
      if (this.engine.addAccount(p.name, account)) this.log.info({ provider: p.name, account }, 'new client account');
    }
    return { credential, account };
  }

  // A caller's account that the provider refused (401/403: not a login it knows) or that makes
  // room: it leaves the engine, so refused credentials never accumulate as states.
  drop(provider, account) {
    if ((provider.accounts || []).some((a) => a.fingerprint === account)) return;
    this.accounts.get(provider.name)?.delete(account);
    this.engine.removeAccount(provider.name, account);
  }

  // What tried candidates the router must not offer again, before the first attempt: auth: client
  // providers whose format is not the client's, and those the caller has no account at.
  initialSkip(kind, caller) {
    const skip = [];
    for (const p of this.providers)
      if ((BACKEND_FORMAT[p.backend] || 'chat') !== kind || !caller || !this.accounts.get(p.name).has(caller.account)) skip.push(p.name);
    return skip;
  }

  // Counts `account` as being served until `res` closes.
  hold(account, res) {
    this.inflight.set(account, (this.inflight.get(account) || 0) + 1);
    res.once('close', () => {
      const n = this.inflight.get(account) - 1;
      if (n > 0) this.inflight.set(account, n);
      else this.inflight.delete(account);
    });
  }
}

// The client headers an auth: client provider receives beside the credential (config
// forward_headers), bounded and printable; anthropic-version / -beta travel as before.
function forwardedHeaders(provider, headers) {
  const out = {};
  for (const name of provider.forward_headers || []) {
    const v = headers[name];
    if (typeof v === 'string' && v.length <= 1024 && /^[\x20-\x7e]*$/.test(v)) out[name] = v;
  }
  return out;
}

module.exports = { CallerAccounts, forwardedHeaders, MAX_CLIENT_ACCOUNTS };
