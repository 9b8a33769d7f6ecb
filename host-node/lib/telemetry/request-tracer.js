// The spans of one client request (telemetry on only): a SERVER span from the proxy's handle() to
// the end of its answer (a stream's last event included), and under it one CLIENT span per
// upstream attempt, from before its request is built to its outcome, so a failover shows one
// child per provider tried, the failed ones with status ERROR. A W3C traceparent from the client
// makes the server span a child of the client's own trace; nothing is propagated upstream.
// Attributes: genai-attributes.js. The proxy calls start(), attempt(), route(), failed(), end().
'use strict';
const { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, defaultTextMapGetter } = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { A, ROUTE_OF, providerFacts, nameOf, whyOf } = require('./genai-attributes');

// Every endpoint traced here is a chat-style generation (Chat Completions, Messages, Responses).
const OPERATION = 'chat';

// Span times, [seconds, nanoseconds] since the epoch, from one monotonic clock anchored once to the
// wall clock. The SDK's default anchors each span's start at Date.now() (whole milliseconds) and
// adds a precise duration for its end, so a failover's second attempt, started 0.1 ms after the
// first ended, could be stamped before that end (seen in CI). With every start and end from this
// clock, spans keep their real order; only the anchor carries Date.now()'s millisecond.
const ANCHOR_NS = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
function clock() {
  const ns = process.hrtime.bigint() + ANCHOR_NS;
  return [Number(ns / 1000000000n), Number(ns % 1000000000n)];
}
const MAX_ERROR = 200;

class RequestTracer {
  // tracer: an OpenTelemetry Tracer; providers: the configured ones; redactor: the process one.
  constructor({ tracer, providers, redactor }) {
    this.tracer = tracer;
    this.redactor = redactor;
    this.facts = new Map(providers.map((p) => [p.name, providerFacts(p)]));
    this.propagator = new W3CTraceContextPropagator();
  }

  // One client request (kind: 'chat' | 'messages' | 'responses'), its body already parsed.
  start(req, res, kind) {
    return new RequestTrace(this, req, res, kind);
  }

  factsOf(provider) {
    let f = this.facts.get(provider.name);
    if (!f) this.facts.set(provider.name, (f = providerFacts(provider)));
    return f;
  }
}

// The route decision as attributes: provider, package, account (a configured name or a
// fingerprint, never a credential) and the router's reason, bounded and redacted.
function routeAttributes(out, decision, provider, redactor) {
  if (!decision) return out;
  const provName = nameOf(decision.provider, redactor);
  if (provName) out[A.ROUTE_PROVIDER] = provName;
  const pkg = nameOf(decision.packageId, redactor);
  if (pkg) out[A.ROUTE_PACKAGE] = pkg;
  if (decision.account) {
    const named = provider && (provider.accounts || []).find((a) => a.fingerprint === decision.account);
    out[A.ROUTE_ACCOUNT] = nameOf(named ? named.name : decision.account, redactor);
  }
  const why = whyOf(decision.reason, redactor);
  if (why) out[A.ROUTE_WHY] = why;
  return out;
}

function usageAttributes(span, event, model, redactor) {
  if (event) {
    span.setAttribute(A.INPUT_TOKENS, event.tokens_in);
    span.setAttribute(A.OUTPUT_TOKENS, event.tokens_out);
    if (event.tokens_cached) span.setAttribute(A.CACHE_READ_TOKENS, event.tokens_cached);
    if (Number.isFinite(event.cost)) span.setAttribute(A.COST_USD, event.cost);
  }
  const responseModel = nameOf(model, redactor);
  if (responseModel) span.setAttribute(A.RESPONSE_MODEL, responseModel);
}

class RequestTrace {
  constructor(owner, req, res, kind) {
    this.owner = owner;
    this.res = res;
    this.attempts = 0;
    this.served = null;   // { outcome, facts } of the attempt that answered
    this.error = null;    // what handle() threw (the gateway answers it)
    this.decision = null;
    this.provider = null;
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    const route = ROUTE_OF[kind] || '/v1';
    const parent = req.headers.traceparent ? owner.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const attributes = { [A.HTTP_METHOD]: 'POST', [A.HTTP_ROUTE]: route, [A.OPERATION]: OPERATION, [A.STREAM]: body.stream === true };
    const model = nameOf(body.model, owner.redactor);
    if (model) attributes[A.REQUEST_MODEL] = model;
    this.span = owner.tracer.startSpan(`POST ${route}`, { kind: SpanKind.SERVER, attributes, startTime: clock() }, parent);
    this.context = trace.setSpan(parent, this.span);
  }

  // A decision that was not tried (every candidate excluded): the server span still says why.
  route(decision) {
    this.decision = decision;
  }

  // One upstream attempt, about to start: its CLIENT span.
  attempt(provider, decision) {
    this.attempts++;
    this.decision = decision;
    this.provider = provider;
    return new AttemptSpan(this, provider, decision);
  }

  failed(err) {
    this.error = err;
  }

  // handle() is done: the answer is complete (or the error is about to be written).
  end() {
    const span = this.span;
    const redactor = this.owner.redactor;
    const status = this.error ? (Number.isInteger(this.error.status) ? this.error.status : 500) : this.served ? this.served.outcome.status : 499;
    span.setAttribute(A.HTTP_STATUS, status);
    span.setAttribute(A.ATTEMPTS, this.attempts);
    const id = this.res.getHeader('x-request-id');
    if (typeof id === 'string') span.setAttribute(A.REQUEST_ID, id);
    span.setAttributes(routeAttributes({}, this.decision, this.provider, redactor));
    if (this.served) {
      const { outcome, facts } = this.served;
      span.setAttribute(A.SYSTEM, facts.system);
      span.setAttribute(A.PROVIDER_NAME, facts.system);
      usageAttributes(span, outcome.event, outcome.model, redactor);
    }
    if (status >= 500) {
      const code = this.error && typeof this.error.code === 'string' ? this.error.code.slice(0, 64) : String(status);
      span.setAttribute(A.ERROR_TYPE, redactor.text(code));
      span.setStatus({ code: SpanStatusCode.ERROR, message: redactor.text(code) });
    }
    span.end(clock());
  }
}

class AttemptSpan {
  constructor(request, provider, decision) {
    const owner = request.owner;
    this.request = request;
    this.facts = owner.factsOf(provider);
    const model = nameOf(decision.model, owner.redactor);
    const attributes = routeAttributes({ [A.OPERATION]: OPERATION, [A.SYSTEM]: this.facts.system, [A.PROVIDER_NAME]: this.facts.system,
      [A.HTTP_METHOD]: 'POST' }, decision, provider, owner.redactor);
    if (model) attributes[A.REQUEST_MODEL] = model;
    if (this.facts.address) {
      attributes[A.SERVER_ADDRESS] = this.facts.address;
      attributes[A.SERVER_PORT] = this.facts.port;
    }
    this.span = owner.tracer.startSpan(model ? `${OPERATION} ${model}` : OPERATION, { kind: SpanKind.CLIENT, attributes, startTime: clock() }, request.context);
  }

  // outcome: tryProvider's { done, status, reason, event?, model? }. status is the client's
  // answer for a served attempt and the upstream's (0: no response) for a failed one.
  end(outcome) {
    const span = this.span;
    const redactor = this.request.owner.redactor;
    const upstreamStatus = outcome.event ? outcome.event.status : outcome.status;
    if (upstreamStatus > 0) span.setAttribute(A.HTTP_STATUS, upstreamStatus);
    if (outcome.done) {
      this.request.served = { outcome, facts: this.facts };
      usageAttributes(span, outcome.event, outcome.model, redactor);
      if (outcome.status >= 500) this.error(String(outcome.status), `answer ended with ${outcome.status}`);
    } else {
      const reason = redactor.text(String(outcome.reason || 'failed')).slice(0, MAX_ERROR);
      this.error(upstreamStatus > 0 ? String(upstreamStatus) : reason.slice(0, 64), reason);
    }
    span.end(clock());
  }

  // The attempt threw (the upstream's 4xx passed on to the client, the ledger unavailable ...).
  failed(err) {
    const status = err && Number.isInteger(err.status) ? err.status : 0;
    if (status > 0) this.span.setAttribute(A.HTTP_STATUS, status);
    const code = err && typeof err.code === 'string' ? err.code.slice(0, 64) : status > 0 ? String(status) : 'error';
    this.error(this.request.owner.redactor.text(code), this.request.owner.redactor.text(code));
    this.span.end(clock());
  }

  error(type, message) {
    this.span.setAttribute(A.ERROR_TYPE, type);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
}

module.exports = { RequestTracer };
