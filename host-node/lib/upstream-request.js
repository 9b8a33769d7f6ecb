// What is sent to a provider for one attempt: its endpoint (by the wire format its backend speaks),
// the headers (its credential, and for Messages backends the client's anthropic-version,
// anthropic-beta and ?beta=true, which only an Anthropic backend may see) and the body, passed
// through with the model rewritten when the client speaks the provider's format, else translated
// through the neutral form (wire/).
'use strict';
const { endpointOf } = require('./upstream-exchange');
const { CODECS, BACKEND_FORMAT } = require('./wire');

// Each provider's endpoints as undici dispatches them, resolved once per provider.
function providerEndpoints(p) {
  return {
    chat: endpointOf(p.base_url, '/chat/completions'),
    responses: endpointOf(p.base_url, '/responses'),
    messages: endpointOf(p.base_url, '/v1/messages'),
    count_tokens: endpointOf(p.base_url, '/v1/messages/count_tokens'),
  };
}

const withQuery = (path, q) => (q ? `${path}${path.includes('?') ? '&' : '?'}${q}` : path);

// Headers for a provider, by the format its backend speaks. client: { anthropicVersion,
// anthropicBeta } from the client's request (forwarded to Messages backends only).
// auth: { credential: {header, value, token}, forward: {name: value} } for an auth: client
// provider (the caller's own credential, in the header it came in, and the client headers the
// provider needs); { account: {api_key, headers} } for one of an auth: key provider's accounts;
// {} for the provider's own key.
function providerHeaders(provider, format, stream, client = {}, auth = {}) {
  const account = auth.account || null;
  const headers = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', ...provider.headers,
    ...(account ? account.headers : {}) };
  const apiKey = account ? account.api_key : provider.api_key;
  if (auth.credential) {
    Object.assign(headers, auth.forward || {});
    if (auth.credential.header === 'x-api-key' && format === 'messages') headers['x-api-key'] = auth.credential.token;
    else headers.authorization = `Bearer ${auth.credential.token}`;
  }
  if (format === 'messages') {
    if (apiKey && !auth.credential) headers['x-api-key'] = apiKey;
    headers['anthropic-version'] = client.anthropicVersion || provider.headers['anthropic-version'] || '2023-06-01';
    if (client.anthropicBeta) headers['anthropic-beta'] = client.anthropicBeta;
  } else if (apiKey && !auth.credential) {
    headers.authorization = `Bearer ${apiKey}`;
  }
  return headers;
}

// The upstream request for one attempt. kind: the client's format; body: its validated JSON;
// neutral(): the neutral request, decoded once per client request when a translation needs it;
// client: { anthropicVersion, anthropicBeta, betaQuery }.
// Returns { format, translated, target, request: { headers, body, timeoutMs }, dropped, added }
// (added: request fields the gateway put there on its own, which a 400 may name).
function buildUpstreamRequest({ provider, endpoints, kind, body, model, stream, neutral, client, auth = {} }) {
  const format = BACKEND_FORMAT[provider.backend] || 'chat';
  const translated = format !== kind;
  let payload;
  let dropped = [];
  if (!translated) {
    payload = { ...body, model };
    if (format === 'chat' && stream) payload.stream_options = { ...(body.stream_options || {}), include_usage: true };
  } else {
    const req = neutral();
    dropped = [...req.dropped];
    payload = CODECS[format].encodeRequest(req, { model, stream, dropped });
  }
  // Provider quirks: configured, or learned from a 400 that named a field the gateway added.
  const quirks = provider.quirks || {};
  const added = [];
  if (format === 'chat' && payload.stream_options) {
    if (quirks.stream_usage === false || (provider.learned && provider.learned.noStreamUsage)) delete payload.stream_options;
    else if (stream && (!(body.stream_options && body.stream_options.include_usage) || translated)) added.push('stream_options');
  }
  for (const f of quirks.drop_fields || []) delete payload[f];
  const target = endpoints[format];
  const forwardBeta = format === 'messages' && kind === 'messages' && client.betaQuery;
  return {
    format, translated, dropped, added,
    target: forwardBeta ? { origin: target.origin, path: withQuery(target.path, 'beta=true') } : target,
    request: { headers: providerHeaders(provider, format, stream, kind === 'messages' ? client : {}, auth), body: JSON.stringify(payload), timeoutMs: provider.timeout_ms },
  };
}

module.exports = { providerEndpoints, providerHeaders, buildUpstreamRequest, withQuery };
