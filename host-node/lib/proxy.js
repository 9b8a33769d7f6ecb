// One client request from routing to the ledger: ask the engine for a candidate, call it, feed
// its response (any status) back to the engine, fail over before the first byte on 429/5xx/
// timeout/connection errors, stream without buffering, and append the usage event before the
// client's response completes. No quota maths here: every decision comes from the wasm engine.
'use strict';
const crypto = require('node:crypto');
const { SseUsageTap } = require('./sse');
const { usageFromJson } = require('./usage');
const { headerValue } = require('./header-value');
const { UpstreamExchange, endpointOf } = require('./upstream-exchange');
const { recordUsageEvent } = require('./engine-session');

const MAX_UPSTREAM_ERROR_BODY = 64 * 1024;  // bytes of a 4xx/5xx body read for its hints
const MAX_UPSTREAM_BODY = 64 * 1024 * 1024;     // bytes of a non-streamed completion
const SHARE_READING_EVERY_MS = 200;
const SHARED_BODY_LIMIT = 4096;  // a 429 body's hints fit; nothing else of a body is shared
const FAILOVER_STATUSES = new Set([401, 403, 408, 409, 429, 500, 502, 503, 504, 529]);
// After the client goes away mid-answer, the upstream is still read (its output discarded) for at
// most this long, so that the usage it reports at the end is counted.
const DRAIN_AFTER_CLOSE_MS = 30000;

class ClientError extends Error {
  constructor(status, message, code, extraHeaders = {}) {
    super(message);
    Object.assign(this, { status, code, extraHeaders });
  }
}

function upstreamRequest(provider, kind, body, model, stream) {
  const payload = { ...body, model };
  const headers = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', ...provider.headers };
  if (kind === 'anthropic') {
    if (provider.api_key) headers['x-api-key'] = provider.api_key;
    headers['anthropic-version'] = provider.headers['anthropic-version'] || '2023-06-01';
  } else {
    if (provider.api_key) headers.authorization = `Bearer ${provider.api_key}`;
    if (stream) payload.stream_options = { ...(body.stream_options || {}), include_usage: true };
  }
  return { headers, body: JSON.stringify(payload), timeoutMs: provider.timeout_ms };
}

function costOf(provider, usage) {
  if (usage.cost !== null && usage.cost !== undefined && Number.isFinite(usage.cost)) return usage.cost;
  return (usage.tokens_in * provider.price.input_per_1m + usage.tokens_out * provider.price.output_per_1m) / 1e6;
}

// One SSE error event in the client's wire format: Chat Completions has no named error event
// (clients read `data: {"error": ...}`); Messages names it `event: error`
// (https://docs.anthropic.com/en/api/messages-streaming#error-events).
function sseError(kind, message) {
  if (kind === 'anthropic') return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`;
  return `data: ${JSON.stringify({ error: { message, type: 'upstream_error' } })}\n\n`;
}

class Proxy {
  // maxSseEventBytes: the largest single SSE event accepted from an upstream (characters).
  constructor({ engine, providers, ledger, metrics, log, requestLog = log, redactor, maxAttempts = 4, now = Date.now, maxSseEventBytes = 1024 * 1024 }) {
    Object.assign(this, { engine, ledger, metrics, log, requestLog, redactor, maxAttempts, now, maxSseEventBytes });
    this.providers = new Map(providers.map((p) => [p.name, p]));
    // Each provider's two endpoints as undici dispatches them (origin + path), resolved once.
    this.endpoints = new Map(providers.map((p) => [p.name, { openai: endpointOf(p.base_url, '/chat/completions'), anthropic: endpointOf(p.base_url, '/v1/messages') }]));
    // Providers that cannot serve each endpoint's wire format, as the engine's skip list (fixed per config).
    const mismatched = (anthropic) => providers.filter((p) => anthropic !== (p.backend === 'anthropic')).map((p) => p.name);
    this.wrongBackend = { openai: mismatched(false), anthropic: mismatched(true) };
    this.sharing = ledger.backend === 'postgres';
    this.inflight = 0;  // client requests being served now
    this.lastShared = new Map();  // provider -> { at, failure }
  }

  // Hands what the engine just learned about a provider to the other instances (shared ledger
  // only): failures and rejections always, readings from successful responses at most every
  // SHARE_READING_EVERY_MS per provider (each one carries the provider's whole count), and the
  // first success after a failure so that the others reset their failure counts too.
  // headers: the header lines as text or as a Buffer of them.
  share(kind, provider, { status = 0, headers = '', body = '', latency = -1, reason = '', dialect = 'none' } = {}) {
    if (!this.sharing) return;
    const ts = this.now();
    const last = this.lastShared.get(provider);
    const failure = kind === 'failure' || status === 0 || status === 408 || status === 429 || status >= 500;
    if (kind === 'observe' && status < 400) {
      const due = dialect !== 'none' && (!last || ts - last.at >= SHARE_READING_EVERY_MS);
      if (!due && !(last && last.failure)) return;
    }
    this.lastShared.set(provider, { at: ts, failure });
    this.ledger.shareSignal({ kind, provider_id: provider, ts, status, latency_ms: latency, reason: this.redactor.text(reason),
      headers: this.redactor.text(String(headers).replace(/^set-cookie:.*\n/gim, '')), body: this.redactor.text(body.slice(0, SHARED_BODY_LIMIT)) });
  }

  recordFailure(provider, reason) {
    this.engine.recordFailure(provider, reason, this.now());
    this.share('failure', provider, { reason });
  }

  // hdrs: header lines (Buffer or text); body: text. Secrets an upstream echoes (a key in a
  // header value or an error message) are replaced before anything reaches the engine's state.
  observe(provider, status, hdrs, body, latency) {
    hdrs = this.redactor.bytes(hdrs);
    body = this.redactor.text(body);
    const obs = this.engine.observe(provider, status, hdrs, body, latency, this.now());
    this.share('observe', provider, { status, headers: hdrs, body, latency, dialect: obs.dialect });
    return obs;
  }

  // kind: 'openai' (/v1/chat/completions) or 'anthropic' (/v1/messages). Every response, error
  // answers included, is completed only once the usage events appended for it are durable.
  async handle(req, res, kind) {
    this.inflight++;
    try {
      await this.serve(req, res, kind);
    } catch (err) {
      await this.durable().catch(() => {});  // the answer is an error either way
      throw err;
    } finally {
      this.inflight--;
    }
  }

  // The usage events appended so far are in the journal. Group commit only pays when other
  // requests can finish in the same event-loop turn; a lone request writes at once.
  durable() {
    return this.ledger.durable(this.inflight === 1);
  }

  async serve(req, res, kind) {
    const started = process.hrtime.bigint();
    const requestId = crypto.randomUUID();
    res.setHeader('x-request-id', requestId);
    const body = req.body;
    validateBody(body, kind);
    const model = body.model;
    const stream = body.stream === true;
    // Nothing is served that the ledger could not keep: asked before any upstream is called.
    const unwritable = this.ledger.writable();
    if (unwritable) throw new ClientError(503, `usage ledger unavailable: ${unwritable}`, 'ledger_unavailable', { 'retry-after': '5' });
    const wrongBackend = this.wrongBackend[kind];
    const skip = [...wrongBackend];
    const attempts = [];
    // The upstream exchange in flight. When the client goes before the upstream answered, the
    // exchange is aborted; after that, it is read to its end (output discarded, at most
    // DRAIN_AFTER_CLOSE_MS) so that the usage it reports is counted.
    const client = { gone: false, exchange: null, answered: false, resume: null };
    res.on('close', () => {
      if (res.writableEnded) return;
      client.gone = true;
      const exchange = client.exchange;
      if (!exchange) return;
      if (!client.answered) return exchange.abort(new Error('client went away'));
      const timer = setTimeout(() => exchange.abort(new Error('client went away; stopped reading')), DRAIN_AFTER_CLOSE_MS);
      timer.unref();
      if (client.resume) {
        const resume = client.resume;
        client.resume = null;
        resume();
      }
    });

    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const now = this.now();
      const decision = this.engine.route(model, now, skip.join('\n'));
      if (!decision.ok) break;
      if (decision.allExcluded && attempt === 0) {
        this.logRequest({ requestId, kind, model, decision, attempts, started, status: decision.retryAt > 0 ? 429 : 503 });
        throw this.noCapacity(decision, now, model);
      }
      if (decision.allExcluded) break;
      const provider = this.providers.get(decision.provider);
      if (!provider) {  // a catalog package whose provider is not configured
        skip.push(decision.provider);
        attempt--;
        continue;
      }
      const outcome = await this.tryProvider({ provider, decision, kind, body, stream, res, client, requestId, model });
      attempts.push({ provider: provider.name, package: decision.packageId, status: outcome.status, reason: outcome.reason });
      if (outcome.done) {
        this.logRequest({ requestId, kind, model, decision, attempts, started, status: outcome.status });
        return;
      }
      this.metrics.failovers.inc({ provider: provider.name, reason: outcome.reason });
      skip.push(provider.name);
      if (client.gone) return;
    }
    // Nothing left to try: capacity-based answer if every candidate is blocked, else 502.
    const now = this.now();
    const final = this.engine.route(model, now, wrongBackend.join('\n'));
    this.logRequest({ requestId, kind, model, decision: final, attempts, started, status: final.allExcluded ? 429 : 503 });
    if (!final.ok && attempts.length === 0) throw this.unknownModel(model);
    if (final.allExcluded) throw this.noCapacity(final, now, model);
    const last = attempts[attempts.length - 1];
    // Every candidate failed transiently (5xx, timeouts, resets): say so, and when to try again.
    throw new ClientError(503, `all ${attempts.length} upstream attempts failed (last: ${last ? `${last.provider} ${last.reason}` : 'none'})`,
      'upstream_unavailable', { 'retry-after': '1' });
  }

  noCapacity(decision, now, model) {
    const retryS = decision.retryAt > 0 ? Math.max(1, Math.ceil((decision.retryAt - now) / 1000)) : null;
    const headers = retryS ? { 'retry-after': String(retryS) } : {};
    return new ClientError(retryS ? 429 : 503, `no capacity for model "${model}": ${decision.reason}`, 'quota_exhausted', headers);
  }

  unknownModel(model) {
    const available = [...new Set([...this.providers.values()].flatMap((p) => p.models))].sort();
    return new ClientError(404, `unknown model "${String(model).slice(0, 200)}"; available: auto, ${available.join(', ')}`, 'model_not_found');
  }

  async tryProvider({ provider, decision, kind, body, stream, res, client, requestId, model }) {
    const exchange = new UpstreamExchange(this.endpoints.get(provider.name)[kind], upstreamRequest(provider, kind, body, decision.model, stream));
    client.exchange = exchange;
    const t0 = Date.now();
    const sentAt = this.now();
    let head;
    try {
      head = await exchange.start().head();
    } catch (err) {
      if (client.gone) {
        // The client went away: nothing wrong with the provider, and nobody to answer.
        this.appendEvent({ requestId, provider, model: decision.model, status: 499, usage: null, sentAt });
        return { done: true, status: 499, reason: 'client went away' };
      }
      const code = err && err.code;
      const reason = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout'
        : code || (err && err.cause && err.cause.code) || (err && err.message) || 'connection error';
      this.recordFailure(provider.name, reason);
      this.metrics.upstream.observe({ provider: provider.name, status: 'error' }, (Date.now() - t0) / 1000);
      this.appendEvent({ requestId, provider, model: decision.model, status: 0, usage: null, sentAt });
      return { done: false, status: 0, reason };
    }
    const { status, headers: hdrs } = head;
    const latency = Date.now() - t0;
    client.answered = true;
    // What the engine learns from a successful response's headers. On the success paths it learns
    // after the client has its answer, in the same synchronous step as the response's end.
    const timeToHead = () => this.metrics.upstream.observe({ provider: provider.name, status: String(status) }, latency / 1000);
    const learn = () => {
      timeToHead();
      this.observe(provider.name, status, hdrs, '', latency);
    };

    if (status >= 300 && status < 400) {
      // A redirect is not an answer: undici does not follow it here, and a provider endpoint that
      // moves is a configuration problem to fail over from (and to see in the log).
      timeToHead();
      exchange.abort(new Error('redirect'));
      const location = headerOf(hdrs, 'location');
      const reason = `HTTP ${status} redirect${location ? ` to ${location.slice(0, 200)}` : ''}`;
      this.log.warn({ provider: provider.name, status, location: location ? this.redactor.text(location.slice(0, 200)) : null }, 'upstream answered with a redirect; failing over');
      this.observe(provider.name, status, hdrs, '', latency);
      this.recordFailure(provider.name, reason);
      this.appendEvent({ requestId, provider, model: decision.model, status, usage: null, sentAt });
      return { done: false, status, reason };
    }
    if (status >= 400) {
      timeToHead();
      let text = '';
      try {
        text = await exchange.readAll(MAX_UPSTREAM_ERROR_BODY, { truncate: true });
      } catch { /* the body is a hint only */ }
      const obs = this.observe(provider.name, status, hdrs, text, latency);
      this.appendEvent({ requestId, provider, model: decision.model, status, usage: null, sentAt });
      if (FAILOVER_STATUSES.has(status)) return { done: false, status, reason: `HTTP ${status}${obs.retryable ? '' : ' (not retryable)'}` };
      // A client-side error (400, 404, 422 ...): the request itself is wrong; pass the provider's word on.
      throw new ClientError(status, `${provider.name}: ${this.redactor.text(extractMessage(text)) || `HTTP ${status}`}`, 'upstream_rejected');
    }
    // Names from the config and the catalog may be any Unicode: encoded, never thrown on.
    res.setHeader('x-quotagate-provider', headerValue(provider.name));
    if (decision.packageId) res.setHeader('x-quotagate-package', headerValue(decision.packageId));
    res.setHeader('x-quotagate-model', headerValue(decision.model));

    if (!stream) {
      let text;
      try {
        text = await exchange.readAll(MAX_UPSTREAM_BODY);
      } catch (err) {
        learn();
        if (client.gone) {  // read until DRAIN_AFTER_CLOSE_MS and still not whole: usage unknown
          this.appendEvent({ requestId, provider, model: decision.model, status, usage: null, sentAt });
          return { done: true, status: 499, reason: 'client went away' };
        }
        this.recordFailure(provider.name, 'body read failed');
        this.appendEvent({ requestId, provider, model: decision.model, status: 502, usage: null, sentAt });
        return { done: false, status: 502, reason: 'body read failed' };
      }
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        learn();
        this.recordFailure(provider.name, 'malformed JSON');
        this.appendEvent({ requestId, provider, model: decision.model, status: 502, usage: null, sentAt });
        return { done: false, status: 502, reason: 'malformed upstream JSON' };
      }
      const event = this.ledgerEvent({ requestId, provider, model: decision.model, status, usage: this.usageOf(provider, kind, json), sentAt });
      try {
        await this.durable();
      } catch (err) {
        learn();
        recordUsageEvent(this.engine, event);  // the upstream served it: it counts, and stays queued for the journal
        throw new ClientError(503, `usage ledger unavailable: ${err.code || err.message}`, 'ledger_unavailable', { 'retry-after': '5' });
      }
      // Plain node:http methods: this also runs on the fast path, outside express.
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      learn();
      recordUsageEvent(this.engine, event);
      this.metrics.requests.inc({ endpoint: kind, provider: provider.name, status: String(status) });
      return { done: true, status };
    }

    // Streaming: from the first byte on there is no failover. The terminal event is held back
    // until the usage event is durable (sse.js); if it cannot be made durable, the client gets an
    // error event instead, never a complete stream.
    const tap = new SseUsageTap({ dialect: kind, dropUsageChunk: !(body.stream_options && body.stream_options.include_usage), maxEventBytes: this.maxSseEventBytes });
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    learn();
    const decoder = new TextDecoder();
    let outcome = 200;  // what the client got: 200, 499 (went away) or 502 (upstream broke)
    let broke = null;
    try {
      await exchange.pipeTo({
        write: (chunk) => {
          const out = tap.push(decoder.decode(chunk, { stream: true }));
          return out && !client.gone ? res.write(out) : true;
        },
        waitDrain: (resume) => {
          if (client.gone) return resume();
          client.resume = resume;
          res.once('drain', () => {
            if (client.resume === resume) client.resume = null;
            resume();
          });
        },
      });
      const rest = tap.flush() + decoder.decode();
      if (rest && !client.gone) res.write(rest);
    } catch (err) {
      broke = err;
      if (err && err.code === 'QG_SSE_EVENT_TOO_LARGE') exchange.abort(err);
    }
    if (client.gone) outcome = 499;
    else if (broke) outcome = 502;
    // The upstream answered 200 and served what it served: the request counts with the usage seen.
    const event = this.ledgerEvent({ requestId, provider, model: decision.model, status, usage: tap.usage, sentAt, invalid: tap.invalidUsage });
    if (broke && !client.gone) {
      const why = broke.code === 'QG_SSE_EVENT_TOO_LARGE' ? broke.message : 'upstream stream interrupted';
      this.recordFailure(provider.name, why === broke.message ? 'SSE event too large' : 'stream interrupted');
      res.write(sseError(kind, `${provider.name}: ${why}`));
    }
    try {
      await this.durable();
      if (!broke && !client.gone && tap.terminal) res.write(tap.terminal);
    } catch (err) {
      outcome = 503;
      if (!client.gone) res.write(sseError(kind, `usage ledger unavailable (${err.code || err.message}); this answer was not recorded, retry later`));
    }
    recordUsageEvent(this.engine, event);
    this.metrics.requests.inc({ endpoint: kind, provider: provider.name, status: String(outcome) });
    res.end();
    return { done: true, status: outcome };
  }

  // The validated usage of a whole response (usage.js); invalid values are logged and counted.
  usageOf(provider, kind, json) {
    const { usage, invalid } = usageFromJson(kind, json);
    if (invalid.length) this.invalidUsage(provider, invalid);
    return usage;
  }

  invalidUsage(provider, invalid) {
    this.log.warn({ provider: provider.name, fields: invalid.map((f) => this.redactor.text(f)) }, 'upstream usage values are invalid; recorded as unknown (0)');
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
  ledgerEvent({ requestId, provider, model, status, usage, sentAt, invalid = null }) {
    if (invalid && invalid.length) this.invalidUsage(provider, invalid);
    const u = usage || { tokens_in: 0, tokens_out: 0, cost: null };
    const event = { id: `${requestId}:${provider.name}`, ts: sentAt, provider_id: provider.name, model, status,
      cost: usage ? costOf(provider, u) : 0, tokens_in: u.tokens_in, tokens_out: u.tokens_out };
    this.ledger.append(event);
    return event;
  }

  // One line per client request. `attempts` lists every upstream attempt when there was more than
  // one or the answer was an error; a plain success says it all in provider and status.
  logRequest({ requestId, kind, model, decision, attempts, started, status }) {
    this.requestLog.info({
      request_id: requestId, endpoint: kind, model, status,
      provider: attempts.length ? attempts[attempts.length - 1].provider : null,
      route: decision ? { provider: decision.provider, package: decision.packageId, reason: decision.reason } : null,
      failovers: Math.max(0, attempts.length - 1), ...(attempts.length > 1 || status >= 400 ? { attempts } : {}),
      latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
    }, 'request');
  }
}

// The first value of a header in undici's raw lines (a Buffer or text), or null.
function headerOf(hdrs, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(String(hdrs));
  return m ? m[1].trim() : null;
}

function extractMessage(text) {
  try {
    const j = JSON.parse(text);
    return (j.error && (j.error.message || j.error.type)) || j.message || '';
  } catch {
    return text.slice(0, 200);
  }
}

const SAFE_MODEL = /^[\x20-\x7e]{1,256}$/;
// The body's nesting depth was checked on its bytes before parsing (gateway.js depthCheck).
function validateBody(body, kind) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClientError(400, 'request body must be a JSON object', 'invalid_request');
  if (typeof body.model !== 'string' || !body.model) throw new ClientError(400, '"model" must be a non-empty string (a model name or "auto")', 'invalid_request');
  if (!SAFE_MODEL.test(body.model)) throw new ClientError(400, '"model" must be printable ASCII without control characters (at most 256)', 'invalid_request');
  if (!Array.isArray(body.messages)) throw new ClientError(400, '"messages" must be an array', 'invalid_request');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new ClientError(400, '"stream" must be true or false', 'invalid_request');
  if (kind === 'anthropic' && body.max_tokens !== undefined && !Number.isInteger(body.max_tokens)) throw new ClientError(400, '"max_tokens" must be an integer', 'invalid_request');
}

module.exports = { Proxy, ClientError };
