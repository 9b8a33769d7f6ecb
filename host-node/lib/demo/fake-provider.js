// Simulated LLM providers on loopback, one per rate-limit dialect. Demo mode runs them so that a
// newcomer sees quotas move with no keys; the tests run them as fake upstreams and steer them into
// failure modes. Each keeps its own request count and answers with that dialect's headers.
'use strict';
const http = require('node:http');
const { turnFor, whole, streamPieces } = require('./fake-answers');

const DIALECTS = ['openai', 'anthropic', 'openrouter', 'gemini'];

function goDuration(ms) {
  const s = Math.max(0, ms) / 1000;
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${(s - m * 60).toFixed(3).replace(/\.?0+$/, '')}s` : `${s.toFixed(3).replace(/\.?0+$/, '') || 0}s`;
}

// The caller's credential: a Bearer token, else x-api-key ('' for none).
function credentialOf(req) {
  const auth = typeof req.headers.authorization === 'string' ? req.headers.authorization.replace(/^Bearer\s+/i, '') : '';
  return auth || req.headers['x-api-key'] || '';
}

class FakeProvider {
  // limit: requests per windowMs before 429s; latencyMs: delay before the first byte; wire: the
  // body format it speaks ('chat' | 'messages' | 'responses'; default: messages for the anthropic
  // dialect, chat otherwise).
  // perCredential: a subscription: every caller's credential (Bearer token or x-api-key) is an
  // account with its own window, a request without one gets 401, and tokens: (optional) the only
  // credentials accepted. families: [{family, match: RegExp, limit}], weekly limits of one model
  // family per account (Claude's 7d_opus ...): at the limit, a 429 naming seven_day_<family>.
  constructor({ name, dialect = 'openai', limit = 1000, windowMs = 60000, latencyMs = 5, clock = Date.now, wire = null,
    perCredential = false, tokens = null, families = [] } = {}) {
    if (!DIALECTS.includes(dialect)) throw new Error(`unknown dialect ${dialect}`);
    Object.assign(this, { name: name || dialect, dialect, limit, windowMs, latencyMs, clock, perCredential, tokens, families });
    this.accounts = new Map();  // credential -> { hits, family: Map(family -> count) }
    this.credentials = [];      // the credential of each request received (perCredential)
    this.wire = wire || (dialect === 'anthropic' ? 'messages' : 'chat');
    // ok | 429 | 429-bare | 500 | 502 | 503 | slow | reset | reset-mid-stream | bad-json | bad-sse | echo-key-400 | echo-key-401
    this.mode = 'ok';
    this.hits = [];         // timestamps of accepted requests (for the window count)
    this.received = 0;
    this.lastRequest = null;
    this.sockets = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(port = 0) {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => {
      this.port = this.server.address().port;
      this.url = `http://127.0.0.1:${this.port}`;
      resolve(this);
    }));
  }

  close() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  used(now) {
    const from = now - this.windowMs;
    while (this.hits.length && this.hits[0] <= from) this.hits.shift();
    return this.hits.length;
  }

  rateHeaders(now, used) {
    const remaining = Math.max(0, this.limit - used);
    const resetMs = this.hits.length ? this.hits[0] + this.windowMs - now : this.windowMs;
    switch (this.dialect) {
      case 'openai':
      case 'gemini':
        return {
          'x-ratelimit-limit-requests': String(this.limit), 'x-ratelimit-remaining-requests': String(remaining),
          'x-ratelimit-reset-requests': goDuration(resetMs),
          'x-ratelimit-limit-tokens': '200000', 'x-ratelimit-remaining-tokens': '199000', 'x-ratelimit-reset-tokens': '6m0s',
        };
      case 'openrouter':
        return { 'X-RateLimit-Limit': String(this.limit), 'X-RateLimit-Remaining': String(remaining), 'X-RateLimit-Reset': String(now + resetMs) };
      case 'anthropic':
        return {
          'anthropic-ratelimit-unified-status': remaining > 0 ? 'allowed' : 'rejected',
          'anthropic-ratelimit-unified-5h-utilization': (Math.min(used, this.limit) / this.limit).toFixed(4),
          'anthropic-ratelimit-unified-5h-reset': String(Math.ceil((now + resetMs) / 1000)),
          'anthropic-ratelimit-unified-5h-status': remaining > 0 ? 'allowed' : 'rejected',
          'anthropic-ratelimit-unified-representative-claim': 'five_hour',
        };
      default:
        return {};
    }
  }

  rejection(now) {
    const retryS = Math.max(1, Math.ceil(((this.hits[0] ?? now) + this.windowMs - now) / 1000));
    switch (this.dialect) {
      case 'gemini':
        return { headers: {}, body: { error: { code: 429, message: 'You exceeded your current quota.', status: 'RESOURCE_EXHAUSTED', details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaValue: String(this.limit) }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryS}s` }] } } };
      case 'openrouter':
        return { headers: {}, body: { error: { code: 429, message: 'Rate limit exceeded: free-models-per-day. ', metadata: { headers: {
          'X-RateLimit-Limit': String(this.limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(now + retryS * 1000) } } } } };
      case 'anthropic':
        return { headers: { 'retry-after': String(retryS) }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } } };
      default:
        return { headers: { 'retry-after': String(retryS) }, body: { error: { message: `Rate limit reached. Please try again in ${retryS}s.`, type: 'requests', code: 'rate_limit_exceeded' } } };
    }
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    this.received++;
    let body = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch { /* the gateway always sends JSON; keep going */ }
    this.lastRequest = { url: req.url, headers: req.headers, body };
    if (req.url.startsWith('/v1/messages/count_tokens')) {
      const cred = credentialOf(req);
      if (this.perCredential && (!cred || (this.tokens && !this.tokens.includes(cred)))) {
        return send(res, 401, {}, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key or OAuth token' } });
      }
      return send(res, 200, {}, { input_tokens: 42 });  // free: no quota
    }
    const now = this.clock();
    const mode = this.mode;
    if (mode === 'reset') return req.socket.destroy();
    await delay(mode === 'slow' ? 60000 : this.latencyMs);
    if (res.destroyed) return;
    let account = null;
    if (this.perCredential) {
      const cred = credentialOf(req);
      this.credentials.push(cred);
      if (!cred || (this.tokens && !this.tokens.includes(cred))) {
        return send(res, 401, {}, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key or OAuth token' } });
      }
      if (!this.accounts.has(cred)) this.accounts.set(cred, { hits: [], family: new Map() });
      account = this.accounts.get(cred);
      this.hits = account.hits;  // synchronous from here to the answer's head: no other request interleaves
      const fam = this.families.find((f) => f.match.test(String(body.model || '')));
      if (fam && (account.family.get(fam.family) || 0) >= fam.limit) {
        const reset = String(Math.ceil((now + 7 * 86400000) / 1000));
        return send(res, 429, { ...this.rateHeaders(now, this.used(now)), 'anthropic-ratelimit-unified-status': 'rejected',
          'anthropic-ratelimit-unified-representative-claim': `seven_day_${fam.family}`, 'anthropic-ratelimit-unified-reset': reset,
          [`anthropic-ratelimit-unified-7d_${fam.family}-utilization`]: '1.0', [`anthropic-ratelimit-unified-7d_${fam.family}-reset`]: reset,
          [`anthropic-ratelimit-unified-7d_${fam.family}-status`]: 'rejected', 'retry-after': String(7 * 86400) },
        { type: 'error', error: { type: 'rate_limit_error', message: `weekly ${fam.family} limit reached` } });
      }
      if (fam) account.family.set(fam.family, (account.family.get(fam.family) || 0) + 1);
    }
    if (mode === '429' || mode === '429-bare') {
      const r = this.rejection(now);
      const headers = mode === '429-bare' ? {} : { ...r.headers, ...this.rateHeaders(now, this.limit) };
      return send(res, 429, headers, mode === '429-bare' ? { error: { message: 'slow down' } } : r.body);
    }
    if (mode === 'echo-key-400' || mode === 'echo-key-401') {
      // Like real providers that quote the credential they were given in the error message.
      const cred = req.headers.authorization || req.headers['x-api-key'] || '';
      return send(res, mode === 'echo-key-400' ? 400 : 401, {}, { error: { message: `Incorrect API key provided: ${cred}`, type: 'invalid_request_error' } });
    }
    if (['500', '502', '503'].includes(mode)) return send(res, Number(mode), {}, { error: { message: 'upstream exploded', type: 'server_error' } });
    const used = this.used(now);
    if (used >= this.limit) {
      const r = this.rejection(now);
      return send(res, 429, { ...r.headers, ...this.rateHeaders(now, used) }, r.body);
    }
    this.hits.push(now);
    const headers = this.rateHeaders(now, used + 1);
    if (mode === 'bad-json') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      return res.end('{"id": "x", "choices": [');
    }
    const turn = turnFor(body, this.name);
    const usage = { in: 12, out: 7, ...(this.dialect === 'openrouter' ? { cost: 0.00042 } : {}) };
    const wire = this.wire === 'messages' ? 'anthropic' : this.wire;
    if (body.stream) return this.stream(res, headers, streamPieces(wire, body, turn, usage), mode);
    return send(res, 200, headers, whole(wire, body, turn, usage, now));
  }

  // pieces: SSE text, or { content } for a piece that carries content (the failure modes act
  // after the first of those).
  async stream(res, headers, pieces, mode) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    let contentSeen = false;
    for (const p of pieces) {
      const text = typeof p === 'string' ? p : p.content;
      res.write(text);
      if (typeof p !== 'string') {
        await delay(1);
        if (!contentSeen) {
          contentSeen = true;
          if (mode === 'reset-mid-stream') return res.socket.destroy();
          if (mode === 'bad-sse') res.write('data: {"choices": [oops\n\n');
        }
      }
    }
    res.end();
  }
}

function send(res, status, headers, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { FakeProvider, DIALECTS };
