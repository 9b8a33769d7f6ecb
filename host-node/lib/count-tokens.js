// POST /v1/messages/count_tokens (https://docs.anthropic.com/en/api/messages-count-tokens). It never
// costs quota and records no usage event. When the model routes to an Anthropic backend, the
// provider's own endpoint answers (with the client's anthropic-version/-beta and ?beta=true);
// otherwise, or when that call fails, the count is an estimate from the o200k_base tokenizer
// (js-tiktoken), marked by the `x-quotagate-token-estimate` response header.
'use strict';
const { UpstreamExchange } = require('./upstream-exchange');
const { providerHeaders, withQuery } = require('./upstream-request');
const { textOf } = require('./wire/neutral');

const MAX_BODY = 1024 * 1024;
let encoder = null;  // loaded on first use (about 1 s and 20 MB of ranks)

function tokenizer() {
  if (!encoder) {
    const { Tiktoken } = require('js-tiktoken/lite');
    encoder = new Tiktoken(require('js-tiktoken/ranks/o200k_base'));
  }
  return encoder;
}

// The text a model reads from a Messages request: system, every block's text and tool input, tool
// definitions. Images count as a fixed 1,600 tokens each (a ~1 MP image, Anthropic's guide).
function estimate(body) {
  const parts = [];
  let images = 0;
  parts.push(typeof body.system === 'string' ? body.system : textOf(body.system));
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!m) continue;
    if (typeof m.content === 'string') parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const b of m.content) {
        if (!b || typeof b !== 'object') continue;
        if (b.type === 'image') images++;
        else if (typeof b.text === 'string') parts.push(b.text);
        else if (b.type === 'tool_use') parts.push(b.name || '', JSON.stringify(b.input ?? {}));
        else if (b.type === 'tool_result') parts.push(typeof b.content === 'string' ? b.content : textOf(b.content));
      }
    }
  }
  for (const t of Array.isArray(body.tools) ? body.tools : []) if (t) parts.push(t.name || '', t.description || '', JSON.stringify(t.input_schema ?? {}));
  const text = parts.filter(Boolean).join('\n');
  // 4 tokens of framing per message, as chat templates add.
  const framing = 4 * (Array.isArray(body.messages) ? body.messages.length : 0);
  return tokenizer().encode(text).length + framing + images * 1600;
}

async function countTokens(proxy, req, res) {
  const body = req.body;
  if (!body || typeof body !== 'object' || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
    throw new proxy.ClientError(400, 'expected {model, messages[, system, tools]}', 'invalid_request', {}, { param: 'messages' });
  }
  // The same candidates as the request itself: the caller's own account at auth: client providers
  // (and its credential sent there), key accounts elsewhere.
  const caller = proxy.callerOf(req, 'messages');
  const redactor = caller ? proxy.redactor.withCredential(caller.credential.token) : proxy.redactor;
  const decision = proxy.engine.route(body.model, proxy.now(), proxy.initialSkip('messages', caller).join('\n'), caller ? caller.account : '');
  const provider = decision.ok && !decision.allExcluded ? proxy.providers.get(decision.provider) : null;
  if (provider && provider.backend === 'anthropic') {
    const target = proxy.endpoints.get(provider.name).count_tokens;
    const client = { anthropicVersion: typeof req.headers['anthropic-version'] === 'string' ? req.headers['anthropic-version'] : null,
      anthropicBeta: typeof req.headers['anthropic-beta'] === 'string' ? req.headers['anthropic-beta'] : null };
    const betaQuery = /[?&]beta=true(&|$)/.test(req.url || '');
    const exchange = new UpstreamExchange(betaQuery ? { origin: target.origin, path: withQuery(target.path, 'beta=true') } : target,
      { headers: providerHeaders(provider, 'messages', false, client, provider.auth === 'client' ? { credential: caller.credential }
        : { account: decision.account ? proxy.keyAccounts.get(provider.name).get(decision.account) : null }), body: JSON.stringify({ ...body, model: decision.model }), timeoutMs: provider.timeout_ms });
    try {
      const head = await exchange.start().head();
      const text = await exchange.readAll(MAX_BODY);
      // The provider's count, or its verdict on the request ("prompt is too long"): passed on. Only
      // its unavailability (429, 5xx) falls back to the estimate.
      // A refused login (401/403 from an auth: client provider) is the caller's, not the request's:
      // the estimate answers (the request itself would be served elsewhere).
      const refusedLogin = provider.auth === 'client' && (head.status === 401 || head.status === 403);
      if (provider.auth === 'client' && head.status === 401) proxy.dropClientAccount(provider, caller.account);
      if (!refusedLogin && (head.status === 200 || (head.status >= 400 && head.status < 500 && head.status !== 429 && head.status !== 408))) {
        res.writeHead(head.status, { 'content-type': 'application/json; charset=utf-8', 'x-quotagate-provider': provider.name });
        return res.end(redactor.text(text));
      }
      proxy.log.info({ provider: provider.name, status: head.status }, 'count_tokens: the provider declined; answering with an estimate');
    } catch (err) {
      proxy.log.info({ provider: provider.name, err: redactor.text(String(err.message)) }, 'count_tokens: the provider failed; answering with an estimate');
    }
  }
  const n = estimate(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-quotagate-token-estimate': 'o200k_base' });
  res.end(JSON.stringify({ input_tokens: n }));
}

module.exports = { countTokens, estimate };
