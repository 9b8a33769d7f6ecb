// One client request from routing to the ledger: ask the engine for a candidate, call it, feed
// its response (any status) back to the engine, fail over before the first byte on 429/5xx/
// timeout/connection errors, and hand a success to answer.js (pass-through or translated, whole
// or streamed). Any client format (kind: 'chat' | 'messages' | 'responses') may reach any
// provider: the wire format is not a routing constraint. No quota maths here: every decision
// comes from the wasm engine.
'use strict';
const crypto = require('node:crypto');
const { headerValue } = require('./header-value');
const { UpstreamExchange, headerOf } = require('./upstream-exchange');
const { providerEndpoints, buildUpstreamRequest } = require('./upstream-request');
const { answerWhole, answerStream } = require('./answer');
const { upstreamError } = require('./upstream-error');
const { CODECS, BACKEND_FORMAT } = require('./wire');
const { recordUsageEvent } = require('./engine-session');
const { matches: modelMatches } = require('./models-endpoint');
const { ClientError, asClientError, logged, validateBody } = require('./client-error');
const { CallerAccounts, forwardedHeaders } = require('./caller-accounts');

const MAX_UPSTREAM_ERROR_BODY = 64 * 1024;  // bytes of a 4xx/5xx body read for its hints
const SHARE_READING_EVERY_MS = 200;
const SHARED_BODY_LIMIT = 4096;  // a 429 body's hints fit; nothing else of a body is shared
const FAILOVER_STATUSES = new Set([401, 403, 408, 409, 429, 500, 502, 503, 504, 529]);
// Refused accounts of one provider tried in one request beyond maxAttempts (see serve()).
const MAX_ACCOUNT_RETRIES = 8;
// After the client goes away, the upstream is still read (its output discarded) for at most this
// long, so that an answer it completes meanwhile is counted (see serve()).
const DRAIN_AFTER_CLOSE_MS = 5000;

// USD of one request: the provider's own figure when it reports one, else the config's prices per
// 1M tokens; cached input is priced on its own (cache reads and cache writes; both default to the
// input price).
function costOf(provider, usage) {
  if (usage.cost !== null && usage.cost !== undefined && Number.isFinite(usage.cost)) return usage.cost;
  const p = provider.price;
  const read = usage.cached_read || 0, write = usage.cache_write || 0;
  const fresh = Math.max(0, usage.tokens_in - read - write);
  return (fresh * p.input_per_1m + read * (p.cached_input_per_1m ?? p.input_per_1m) + write * (p.cache_write_per_1m ?? p.input_per_1m) +
    usage.tokens_out * p.output_per_1m) / 1e6;
}

class Proxy {
  // maxSseEventBytes: the largest single SSE event accepted from an upstream (characters).
  // fingerprints: a FingerprintCache (accounts.js) when a provider has auth: client; clientKeys:
  // the gateway's own keys (both for CallerAccounts, caller-accounts.js).
  // tracer: a RequestTracer (telemetry/request-tracer.js) when trace export is on, else null.
  constructor({ engine, providers, ledger, metrics, log, requestLog = log, redactor, maxAttempts = 4, now = Date.now, maxSseEventBytes = 1024 * 1024,
    fingerprints = null, clientKeys = [], modelGroups = [], tracer = null }) {
    Object.assign(this, { engine, ledger, metrics, log, requestLog, redactor, maxAttempts, now, maxSseEventBytes, tracer });
    // Names clients ask for that stand for members on providers (config model_groups): the answer
    // carries the group's name, x-quotagate-model the member's.
    this.modelGroups = new Set(modelGroups);
    this.callers = new CallerAccounts({ providers, fingerprints, clientKeys, engine, log });
    this.clientProviders = this.callers.providers;
    // Account id -> what a key account sends (its api_key / headers), per provider.
    this.keyAccounts = new Map(providers.map((p) => [p.name, new Map((p.accounts || []).filter(() => p.auth !== 'client').map((a) => [a.name, a]))]));
    this.providers = new Map(providers.map((p) => [p.name, p]));
    // Each provider's endpoints as undici dispatches them (origin + path), resolved once.
    this.endpoints = new Map(providers.map((p) => [p.name, providerEndpoints(p)]));
    this.ClientError = ClientError;
    this.sharing = ledger.backend === 'postgres';
    this.inflight = 0;  // client requests being served now
    this.lastShared = new Map();  // provider -> { at, failure }
  }

  // Hands what the engine just learned about a provider to the other instances (shared ledger
  // only): failures and rejections always, readings from successful responses at most every
  // SHARE_READING_EVERY_MS per provider (each one carries the provider's whole count), and the
  // first success after a failure so that the others reset their failure counts too.
  // headers: the header lines as text or as a Buffer of them.
  share(kind, provider, { status = 0, headers = '', body = '', latency = -1, reason = '', dialect = 'none', account = '', model = '', redactor = this.redactor } = {}) {
    if (!this.sharing) return;
    const ts = this.now();
    const last = this.lastShared.get(provider);
    const failure = kind === 'failure' || status === 0 || status === 408 || status === 429 || status >= 500;
    if (kind === 'observe' && status < 400) {
      const due = dialect !== 'none' && (!last || ts - last.at >= SHARE_READING_EVERY_MS);
      if (!due && !(last && last.failure)) return;
    }
    this.lastShared.set(provider, { at: ts, failure });
    this.ledger.shareSignal({ kind, provider_id: provider, account, model, ts, status, latency_ms: latency, reason: redactor.text(reason),
      headers: redactor.text(String(headers).replace(/^set-cookie:.*\n/gim, '')), body: redactor.text(body.slice(0, SHARED_BODY_LIMIT)) });
  }

  recordFailure(provider, reason) {
    this.engine.recordFailure(provider, reason, this.now());
    this.share('failure', provider, { reason });
  }

  // hdrs: header lines (Buffer or text); body: text. Secrets an upstream echoes (a key in a
  // header value or an error message) are replaced before anything reaches the engine's state.
  // account: the decision's account id; model: what the upstream was asked for; redactor: the
  // request's (it also knows the caller's own credential, see Redactor.withCredential).
  observe(provider, status, hdrs, body, latency, account = '', model = '', redactor = this.redactor) {
    hdrs = redactor.bytes(hdrs);
    body = redactor.text(body);
    const obs = this.engine.observe(provider, account, model, status, hdrs, body, latency, this.now());
    this.share('observe', provider, { status, headers: hdrs, body, latency, dialect: obs.dialect, account, model, redactor });
    this.readings?.note({ provider, account, model, status, headers: hdrs, body, dialect: obs.dialect, scope: obs.cooldownScope, ts: this.now() });
    return obs;
  }

  // The caller's own credential and its account for this request ({credential, account}), or
  // null; the accounts a provider refused leave; what the router must skip before the first
  // attempt. See caller-accounts.js.
  callerOf(req, kind) {
    return this.callers.callerOf(req, kind);
  }

  dropClientAccount(provider, account) {
    this.callers.drop(provider, account);
  }

  initialSkip(kind, caller) {
    return this.callers.initialSkip(kind, caller);
  }

  // kind: the client's wire format: 'chat' (/v1/chat/completions), 'messages' (/v1/messages) or
  // 'responses' (/v1/responses). Every response, error answers included, is completed only once
  // the usage events appended for it are durable. With trace export on, the request's server
  // span starts here and ends when its answer is complete (a stream's too); off, `trace` is null
  // and nothing else happens.
  async handle(req, res, kind) {
    this.inflight++;
    const trace = this.tracer === null ? null : this.tracer.start(req, res, kind);
    try {
      await this.serve(req, res, kind, trace);
    } catch (err) {
      if (trace !== null) trace.failed(err);
      await this.durable().catch(() => {});  // the answer is an error either way
      throw err;
    } finally {
      this.inflight--;
      if (trace !== null) trace.end();
    }
  }

  // The usage events appended so far are in the journal. Group commit only pays when other
  // requests can finish in the same event-loop turn; a lone request writes at once.
  durable() {
    return this.ledger.durable(this.inflight === 1);
  }

  async serve(req, res, kind, trace = null) {
    const started = process.hrtime.bigint();
    const requestId = crypto.randomUUID();
    res.setHeader('x-request-id', requestId);
    const body = req.body;
    validateBody(body, kind);
    const model = body.model;
    const stream = body.stream === true;
    // The neutral form, decoded at most once and only when an attempt needs a translation; an
    // untranslatable request (a WireError) is a 400 before anything is sent.
    let neutralReq = null;
    const neutral = () => {
      if (!neutralReq) {
        try {
          neutralReq = CODECS[kind].decodeRequest(body);
        } catch (err) {
          throw asClientError(err);
        }
      }
      return neutralReq;
    };
    // Nothing is served that the ledger could not keep: asked before any upstream is called.
    const unwritable = this.ledger.writable();
    if (unwritable) throw new ClientError(503, `usage ledger unavailable: ${unwritable}`, 'ledger_unavailable', { 'retry-after': '5' });
    const clientInfo = { anthropicVersion: stringHeader(req.headers['anthropic-version']), anthropicBeta: stringHeader(req.headers['anthropic-beta']),
      betaQuery: /[?&]beta=true(&|$)/.test(req.url || '') };
    const caller = this.callerOf(req, kind);
    if (caller) this.callers.hold(caller.account, res);
    // Everything this request's upstream answers reach also knows the caller's own credential.
    const redactor = caller ? this.redactor.withCredential(caller.credential.token) : this.redactor;
    const skip = this.initialSkip(kind, caller);
    const callerAccount = caller ? caller.account : '';
    const attempts = [];
    // The upstream exchange in flight. When the client goes away, the exchange is not aborted at
    // once: it is read on for at most DRAIN_AFTER_CLOSE_MS (output discarded), so that an answer
    // the upstream completes meanwhile, and the usage it reports at its end, are counted; a longer
    // one is cut then (a provider generates, and bills, until it sees the connection close).
    const client = { gone: false, exchange: null, resume: null };
    res.on('close', () => {
      if (res.writableEnded) return;
      client.gone = true;
      const exchange = client.exchange;
      if (!exchange) return;
      const timer = setTimeout(() => exchange.abort(new Error('client went away; stopped reading')), DRAIN_AFTER_CLOSE_MS);
      timer.unref();
      if (client.resume) {
        const resume = client.resume;
        client.resume = null;
        resume();
      }
    });
    // maxAttempts counts providers: a provider's refused accounts (429, 401, 403) are each tried,
    // within a bound, before they count as one attempt.
    let accountRetries = 0;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const now = this.now();
      const decision = this.engine.route(model, now, skip.join('\n'), callerAccount);
      if (!decision.ok) break;
      if (decision.allExcluded && attempt === 0) {
        if (trace !== null) trace.route(decision);
        this.logRequest({ requestId, kind, model, decision, attempts, started, status: decision.retryAt > 0 ? 429 : 503 });
        throw logged(this.noCapacity(decision, now, model));
      }
      if (decision.allExcluded) break;
      const provider = this.providers.get(decision.provider);
      if (!provider) {  // a catalog package whose provider is not configured
        skip.push(decision.provider);
        attempt--;
        continue;
      }
      // One child span per attempt (trace export on): it ends with the attempt's outcome, a
      // stream's after its last event.
      const span = trace === null ? null : trace.attempt(provider, decision);
      let outcome;
      try {
        outcome = await this.tryProvider({ provider, decision, kind, body, stream, res, client, requestId, model, neutral, clientInfo,
          credential: provider.auth === 'client' ? caller.credential : null, clientHeaders: req.headers, redactor });
      } catch (err) {
        if (span !== null) span.failed(err);
        throw err;
      }
      if (span !== null) span.end(outcome);
      attempts.push({ provider: provider.name, package: decision.packageId, ...(decision.account ? { account: decision.account } : {}),
        status: outcome.status, reason: outcome.reason });
      if (outcome.done) {
        this.logRequest({ requestId, kind, model, decision, attempts, started, status: outcome.status });
        return;
      }
      this.metrics.failovers.inc({ provider: provider.name, reason: outcome.reason });
      // A refused account (429, 401, 403) leaves the provider's other accounts to try.
      const accountLevel = decision.account && [401, 403, 429].includes(outcome.status);
      skip.push(accountLevel ? `${provider.name}\t${decision.account}` : provider.name);
      // 401: the provider does not know this login; it leaves (403 may be one model the login is
      // not entitled to: the account stays).
      if (accountLevel && provider.auth === 'client' && outcome.status === 401) this.dropClientAccount(provider, decision.account);
      if (accountLevel && accountRetries++ < MAX_ACCOUNT_RETRIES) attempt--;
      if (client.gone) return;
    }
    // Nothing left to try: capacity-based answer if every candidate is blocked, else 502.
    const now = this.now();
    const final = this.engine.route(model, now, this.initialSkip(kind, caller).join('\n'), callerAccount);
    const finalStatus = !final.ok && attempts.length === 0 ? 404 : final.allExcluded ? (final.retryAt > 0 ? 429 : 503) : 503;
    if (trace !== null && final.allExcluded) trace.route(final);
    this.logRequest({ requestId, kind, model, decision: final, attempts, started, status: finalStatus });
    if (!final.ok && attempts.length === 0) {
      // Served here only with the caller's own login (auth: client), and none came: say so.
      const ownLogin = this.clientProviders.filter((p) => (BACKEND_FORMAT[p.backend] || 'chat') === kind &&
        p.models.some((m) => modelMatches(m, String(model))));
      if (!caller && ownLogin.length) {
        throw logged(new ClientError(401, `model "${String(model).slice(0, 200)}" is served here only with your own login (${ownLogin.map((p) => p.name).join(', ')}): send it as Authorization: Bearer ... or x-api-key` +
          (this.callers.gatewayKeys ? ', and the gateway key as x-quotagate-key' : ''), 'invalid_api_key', {}, { type: 'authentication_error' }));
      }
      throw logged(this.unknownModel(model));
    }
    if (final.allExcluded) throw logged(this.noCapacity(final, now, model));
    const last = attempts[attempts.length - 1];
    // The caller's own credential was refused (expired login): say so, so the client can renew it.
    if (last && (last.status === 401 || last.status === 403) && this.providers.get(last.provider)?.auth === 'client') {
      throw logged(last.status === 401
        ? new ClientError(401, `${last.provider} refused the credential this client sent (HTTP 401); log in again`, 'invalid_api_key', {}, { type: 'authentication_error' })
        : new ClientError(403, `${last.provider} refused this request for the login this client sent (HTTP 403: not permitted for this model or feature)`, 'permission_denied', {}, { type: 'permission_error' }));
    }
    // Every candidate failed transiently (5xx, timeouts, resets): say so, and when to try again.
    throw logged(new ClientError(503, `all ${attempts.length} upstream attempts failed (last: ${last ? `${last.provider} ${last.reason}` : 'none'})`,
      'upstream_unavailable', { 'retry-after': '1' }));
  }

  noCapacity(decision, now, model) {
    const retryS = decision.retryAt > 0 ? Math.max(1, Math.ceil((decision.retryAt - now) / 1000)) : null;
    const headers = retryS ? { 'retry-after': String(retryS) } : {};
    return new ClientError(retryS ? 429 : 503, `no capacity for model "${model}": ${decision.reason}`, 'quota_exhausted', headers, { type: retryS ? 'rate_limit_error' : 'server_error' });
  }

  unknownModel(model) {
    const available = [...new Set([...this.modelGroups, ...[...this.providers.values()].flatMap((p) => p.models)])].sort();
    return new ClientError(404, `unknown model "${String(model).slice(0, 200)}"; available: auto, ${available.join(', ')}`, 'model_not_found', {}, { type: 'not_found_error', param: 'model' });
  }

  async tryProvider({ provider, decision, kind, body, stream, res, client, requestId, model, neutral, clientInfo, credential = null, clientHeaders = {},
    redactor = this.redactor, retried = false }) {
    let up;
    try {
      const auth = credential ? { credential, forward: forwardedHeaders(provider, clientHeaders) }
        : { account: decision.account ? this.keyAccounts.get(provider.name).get(decision.account) : null };
      up = buildUpstreamRequest({ provider, endpoints: this.endpoints.get(provider.name), kind, body, model: decision.model, stream, neutral, client: clientInfo, auth });
    } catch (err) {
      throw asClientError(err);
    }
    if (up.dropped.length) {
      // Names come from the client's body: bounded before they reach the log.
      const names = [...new Set(up.dropped.map((d) => String(d).slice(0, 80)))].slice(0, 20);
      this.log.info({ request_id: requestId, provider: provider.name, format: up.format, dropped: names },
        'what the provider\'s format cannot carry was dropped');
    }
    const exchange = new UpstreamExchange(up.target, up.request);
    client.exchange = exchange;
    const t0 = Date.now();
    const sentAt = this.now();
    let head;
    try {
      head = await exchange.start().head();
    } catch (err) {
      if (client.gone) {
        // The client went away: nothing wrong with the provider, and nobody to answer.
        this.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status: 499, usage: null, sentAt });
        return { done: true, status: 499, reason: 'client went away' };
      }
      const code = err && err.code;
      const reason = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout'
        : code || (err && err.cause && err.cause.code) || (err && err.message) || 'connection error';
      this.recordFailure(provider.name, reason);
      this.metrics.observeUpstream(provider.name, 'error', (Date.now() - t0) / 1000);
      this.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status: 0, usage: null, sentAt });
      return { done: false, status: 0, reason };
    }
    const { status, headers: hdrs } = head;
    const latency = Date.now() - t0;
    // What the engine learns from a successful response's headers. On the success paths it learns
    // after the client has its answer, in the same synchronous step as the response's end.
    const timeToHead = () => this.metrics.observeUpstream(provider.name, status, latency / 1000);
    const learn = () => {
      timeToHead();
      this.observe(provider.name, status, hdrs, '', latency, decision.account, decision.model, redactor);
    };

    if (status >= 300 && status < 400) {
      // A redirect is not an answer: undici does not follow it here, and a provider endpoint that
      // moves is a configuration problem to fail over from (and to see in the log).
      timeToHead();
      exchange.abort(new Error('redirect'));
      const location = headerOf(hdrs, 'location');
      // The location stays out of the reason: it becomes a metric label (bounded values) and may
      // carry anything the upstream chose to put in it, a key included.
      const reason = `HTTP ${status} redirect`;
      this.log.warn({ provider: provider.name, status, location: location ? redactor.text(location.slice(0, 200)) : null }, 'upstream answered with a redirect; failing over');
      this.observe(provider.name, status, hdrs, '', latency, decision.account, decision.model, redactor);
      this.recordFailure(provider.name, reason);
      this.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage: null, sentAt });
      return { done: false, status, reason };
    }
    if (status >= 400) {
      timeToHead();
      let text = '';
      try {
        text = await exchange.readAll(MAX_UPSTREAM_ERROR_BODY, { truncate: true });
      } catch { /* the body is a hint only */ }
      const obs = this.observe(provider.name, status, hdrs, text, latency, decision.account, decision.model, redactor);
      this.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage: null, sentAt });
      if (FAILOVER_STATUSES.has(status)) return { done: false, status, reason: `HTTP ${status}${obs.retryable ? '' : ' (not retryable)'}` };
      // A 400 or 422 that names a field the gateway added (stream_options, which some OpenAI-compatible
      // upstreams refuse): retried once without it, and remembered for this provider.
      if ((status === 400 || status === 422) && !retried && up.added.some((f) => text.includes(f))) {
        provider.learned = { ...(provider.learned || {}), noStreamUsage: true };
        this.log.warn({ provider: provider.name, fields: up.added }, 'the provider refuses a field the gateway adds; retrying without it, and not sending it again');
        return this.tryProvider({ provider, decision, kind, body, stream, res, client, requestId, model, neutral, clientInfo, credential, clientHeaders, redactor, retried: true });
      }
      // A client-side error (400, 404, 422 ...): the request itself is wrong; pass the provider's
      // word on, with its type, code and param, in the client's format (gateway.js writeError).
      const e = upstreamError(text, status);
      throw new ClientError(status, `${provider.name}: ${redactor.text(e.message) || `HTTP ${status}`}`, e.code || 'upstream_rejected', {},
        { type: e.type, param: e.param });
    }
    // Names from the config and the catalog may be any Unicode: encoded, never thrown on.
    res.setHeader('x-quotagate-provider', headerValue(provider.name));
    if (decision.packageId) res.setHeader('x-quotagate-package', headerValue(decision.packageId));
    if (decision.account) res.setHeader('x-quotagate-account', headerValue(this.accountLabel(provider, decision.account)));
    res.setHeader('x-quotagate-model', headerValue(decision.model));

    // A model group's answer names the group (the name the client asked for), not the member.
    const renameModel = this.modelGroups.has(body.model) && decision.model !== body.model ? body.model : null;
    const ctx = { proxy: this, provider, decision, kind, body, stream, res, client, requestId, sentAt, exchange, status, headers: hdrs, learn, up, redactor, renameModel };
    return stream ? answerStream(ctx) : answerWhole(ctx);
  }

  // An account's name for people (config), else its id (a fingerprint or a key account's name).
  accountLabel(provider, account) {
    const named = (provider.accounts || []).find((a) => a.fingerprint === account);
    return named ? named.name : account;
  }

  invalidUsage(provider, invalid, redactor = this.redactor) {
    this.log.warn({ provider: provider.name, fields: invalid.map((f) => redactor.text(f)) }, 'upstream usage values are invalid; recorded as unknown (0)');
    this.metrics.invalidUsage?.inc({ provider: provider.name });
  }

  // One usage event, into the ledger and the engine (which counts it whether or not the journal
  // write succeeds: the upstream was called either way).
  appendEvent(args) {
    recordUsageEvent(this.engine, this.ledgerEvent(args));
  }

  // Queues the event in the ledger (the response completes only after ledger.durable()). Its ts is
  // when the request was sent upstream: a provider reading taken from this response already
  // includes it, and the engine adds only events after a reading.
  ledgerEvent({ requestId, provider, model, account = '', status, usage, sentAt, invalid = null, redactor = this.redactor }) {
    if (invalid && invalid.length) this.invalidUsage(provider, invalid, redactor);
    const u = usage || { tokens_in: 0, tokens_out: 0, tokens_cached: 0, cost: null };
    const event = { id: `${requestId}:${provider.name}`, ts: sentAt, provider_id: provider.name, model, status,
      cost: usage ? costOf(provider, u) : 0, tokens_in: u.tokens_in, tokens_out: u.tokens_out, tokens_cached: u.tokens_cached || 0, ...(account ? { account } : {}) };
    this.ledger.append(event);
    return event;
  }

  // One line per client request. `attempts` lists every upstream attempt when there was more than
  // one or the answer was an error; a plain success says it all in provider and status.
  logRequest({ requestId, kind, model, decision, attempts, started, status }) {
    this.requestLog.info({
      request_id: requestId, endpoint: kind, model, status,
      provider: attempts.length ? attempts[attempts.length - 1].provider : null,
      route: decision ? { provider: decision.provider, package: decision.packageId, ...(decision.account ? { account: decision.account } : {}), reason: decision.reason } : null,
      failovers: Math.max(0, attempts.length - 1), ...(attempts.length > 1 || status >= 400 ? { attempts } : {}),
      latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
    }, 'request');
  }
}

function stringHeader(v) {
  return typeof v === 'string' && v.length <= 1024 ? v : null;
}

module.exports = { Proxy, ClientError, costOf };
