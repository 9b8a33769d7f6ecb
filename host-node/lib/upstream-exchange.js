// One HTTP exchange with an upstream provider on undici's dispatch API (the layer under
// undici.request): no AbortController, no Readable stream and no async iterator per request, and
// the response headers arrive raw, so the engine's header text is built without an object in
// between. Measured on the bench upstream: see docs/performance.md.
//
// Life of an exchange: start() dispatches; head() resolves with { status, headers } (headers: the
// raw header lines as a Buffer, see rawHeadersBuffer) (or
// rejects with undici's error: ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT ...); then exactly one of
// readAll(limitBytes) (the whole body as UTF-8 text) or pipeTo(sink) (chunks as they arrive, with
// backpressure) consumes the body. abort(reason) ends it from our side at any point.
'use strict';
const undici = require('undici');

// One keep-alive pool per origin (connections: 256 per origin, one request per connection at a time).
const dispatcher = new undici.Agent({ keepAliveTimeout: 30000, connections: 256, pipelining: 1 });

class BodyTooLarge extends Error {
  constructor(limit) {
    super(`upstream body larger than ${limit} bytes`);
    this.code = 'QG_BODY_TOO_LARGE';
  }
}

// undici's raw headers: [name, value, name, value, ...] as Buffers, as "name: value\n" lines in one
// Buffer (repeated headers keep a line each). The engine takes the bytes as they are (it matches
// names case-insensitively), so they reach wasm memory with one copy and no UTF-8 re-encoding.
function rawHeadersBuffer(raw) {
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) size += raw[i].length + raw[i + 1].length + 3;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    at += raw[i].copy(out, at);
    out[at++] = 0x3a;  // ':'
    out[at++] = 0x20;
    at += raw[i + 1].copy(out, at);
    out[at++] = 0x0a;
  }
  return out;
}

class UpstreamExchange {
  // target: { origin, path } of the provider endpoint; request: { headers, body, timeoutMs }.
  constructor(target, { headers, body, timeoutMs }) {
    this.options = { origin: target.origin, path: target.path, method: 'POST', headers, body,
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
    this.undiciAbort = null;
    this.abortReason = null;
    this.resumeSocket = null;
    this.headResolve = null;
    this.headReject = null;
    this.headPromise = new Promise((resolve, reject) => {
      this.headResolve = resolve;
      this.headReject = reject;
    });
    this.headPromise.catch(() => {});  // the caller awaits head(); a rejection is never unhandled
    this.chunks = [];       // body bytes that arrived before a consumer was attached
    this.size = 0;
    this.ended = false;
    this.error = null;
    this.consumer = null;   // { kind: 'collect', limit, resolve, reject } | { kind: 'pipe', sink, resolve, reject }
  }

  start() {
    dispatcher.dispatch(this.options, this);
    return this;
  }

  head() {
    return this.headPromise;
  }

  // The whole body as text. Past limitBytes it rejects with BodyTooLarge, or with truncate: true
  // resolves with the first limitBytes; either way the rest is not read (the exchange is aborted).
  readAll(limitBytes, { truncate = false } = {}) {
    return new Promise((resolve, reject) => {
      this.consumer = { kind: 'collect', limit: limitBytes, truncate, resolve, reject };
      if (this.size > limitBytes) this.overLimit();
      else this.settleIfDone();
    });
  }

  overLimit() {
    const c = this.consumer;
    if (!c.truncate) {
      this.fail(new BodyTooLarge(c.limit));
      return;
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(0, c.limit)];
    this.size = c.limit;
    const abort = this.undiciAbort;
    this.ended = true;
    this.settleIfDone();
    if (abort) abort(new BodyTooLarge(c.limit));
  }

  // sink.write(buffer) -> false when the sink wants no more for now; sink.waitDrain(resume) calls
  // resume once it does. Resolves when the upstream body has ended.
  pipeTo(sink) {
    return new Promise((resolve, reject) => {
      this.consumer = { kind: 'pipe', sink, resolve, reject };
      const early = this.chunks;
      this.chunks = [];
      for (const chunk of early) sink.write(chunk);
      this.settleIfDone();
    });
  }

  abort(reason) {
    if (this.ended || this.error) return;
    this.abortReason = reason;
    if (this.undiciAbort) this.undiciAbort(reason);
  }

  fail(err) {
    if (this.undiciAbort && !this.ended && !this.error) this.undiciAbort(err);
    if (!this.error) {
      this.error = err;
      this.headReject(err);
    }
    this.settleIfDone();
  }

  settleIfDone() {
    const c = this.consumer;
    if (!c) return;
    if (this.error) {
      this.consumer = null;
      c.reject(this.error);
    } else if (this.ended) {
      this.consumer = null;
      if (c.kind === 'collect') c.resolve(this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks).toString('utf8'));
      else c.resolve();
    }
  }

  // --- undici dispatch handler ---
  onConnect(abort) {
    this.undiciAbort = abort;
    if (this.abortReason) abort(this.abortReason);
  }

  onHeaders(statusCode, rawHeaders, resume) {
    if (statusCode < 200) return true;  // 1xx: informational, the real head follows
    this.resumeSocket = resume;
    this.headResolve({ status: statusCode, headers: rawHeadersBuffer(rawHeaders) });
    return true;
  }

  onData(chunk) {
    this.size += chunk.length;
    const c = this.consumer;
    if (c && c.kind === 'pipe') {
      if (c.sink.write(chunk)) return true;
      c.sink.waitDrain(() => this.resumeSocket && this.resumeSocket());
      return false;
    }
    this.chunks.push(chunk);
    if (c && this.size > c.limit) {
      this.overLimit();
      return false;
    }
    return true;
  }

  onComplete() {
    if (this.ended) return;
    this.ended = true;
    this.settleIfDone();
  }

  onError(err) {
    if (this.error || this.ended) return;
    this.error = err;
    this.headReject(err);
    this.settleIfDone();
  }
}

// What a provider's base_url resolves to, once per provider: undici dispatches by origin and path.
// A query in base_url (?api-version=... on some hosts) stays on every call.
function endpointOf(baseUrl, suffix) {
  const u = new URL(baseUrl);
  return { origin: u.origin, path: `${u.pathname.replace(/\/+$/, '')}${suffix}${u.search}` };
}

// The first value of a header in undici's raw lines (a Buffer or text), or null.
function headerOf(hdrs, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(String(hdrs));
  return m ? m[1].trim() : null;
}

module.exports = { UpstreamExchange, endpointOf, rawHeadersBuffer, headerOf };
