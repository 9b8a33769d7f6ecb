// The vocabulary of quotagate's spans: attribute names after the OpenTelemetry GenAI and HTTP
// semantic conventions (the GenAI ones are still "development" and so are spelled here rather than
// imported from semantic-conventions/incubating, as that package advises), quotagate's own
// route attributes, and which gen_ai.system a provider is. Only names, models, counts, statuses
// and the router's reason ever become attribute values: never message content, headers, URLs
// with credentials or keys.
'use strict';
const { BACKEND_FORMAT } = require('../wire');

const A = {
  OPERATION: 'gen_ai.operation.name',
  SYSTEM: 'gen_ai.system',                 // semconv <= 1.36; kept for the backends that read it
  PROVIDER_NAME: 'gen_ai.provider.name',   // its successor (semconv 1.37)
  REQUEST_MODEL: 'gen_ai.request.model',
  RESPONSE_MODEL: 'gen_ai.response.model',
  INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  CACHE_READ_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  HTTP_METHOD: 'http.request.method',
  HTTP_ROUTE: 'http.route',
  HTTP_STATUS: 'http.response.status_code',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  ERROR_TYPE: 'error.type',
  ROUTE_PROVIDER: 'quotagate.route.provider',
  ROUTE_PACKAGE: 'quotagate.route.package',
  ROUTE_ACCOUNT: 'quotagate.route.account',
  ROUTE_WHY: 'quotagate.route.why',
  REQUEST_ID: 'quotagate.request_id',
  STREAM: 'quotagate.stream',
  ATTEMPTS: 'quotagate.attempts',
  COST_USD: 'quotagate.cost_usd',
};

// The client's endpoint per wire format (the server span's http.route).
const ROUTE_OF = { chat: '/v1/chat/completions', messages: '/v1/messages', responses: '/v1/responses' };

const MAX_WHY = 300;     // characters of the router's reason
const MAX_NAME = 256;    // characters of a model, package or account name

// Well-known gen_ai.system values, by the provider's host; otherwise by the wire format it speaks.
const SYSTEM_BY_HOST = [
  [/(^|\.)openai\.azure\.com$/, 'az.ai.openai'],
  [/(^|\.)(openai|chatgpt)\.com$/, 'openai'],
  [/(^|\.)anthropic\.com$/, 'anthropic'],
  [/(^|\.)deepseek\.com$/, 'deepseek'],
  [/(^|\.)groq\.com$/, 'groq'],
  [/(^|\.)mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)x\.ai$/, 'x_ai'],
  [/(^|\.)perplexity\.ai$/, 'perplexity'],
  [/(^|\.)cohere\.(ai|com)$/, 'cohere'],
  [/^bedrock[a-z-]*\.[a-z0-9-]+\.amazonaws\.com$/, 'aws.bedrock'],
  [/(^|\.)(generativelanguage|aiplatform)\.googleapis\.com$/, 'gcp.gemini'],
];
const SYSTEM_BY_FORMAT = { chat: 'openai', responses: 'openai', messages: 'anthropic' };

// What every span of one provider carries: { system, address, port } (the base URL's host and
// port only: its user info, path and query never leave).
function providerFacts(provider) {
  let host = null;
  let port = null;
  try {
    const u = new URL(provider.base_url);
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  } catch { /* config.js validated it */ }
  const known = host ? SYSTEM_BY_HOST.find(([re]) => re.test(host)) : null;
  return { system: known ? known[1] : SYSTEM_BY_FORMAT[BACKEND_FORMAT[provider.backend] || 'chat'], address: host, port };
}

// A name from a client, a provider or the config, bounded and passed through the redactor.
function nameOf(value, redactor) {
  return typeof value === 'string' && value ? redactor.text(value.length > MAX_NAME ? value.slice(0, MAX_NAME) : value) : null;
}

function whyOf(reason, redactor) {
  if (typeof reason !== 'string' || !reason) return null;
  const text = redactor.text(reason);
  return text.length > MAX_WHY ? `${text.slice(0, MAX_WHY - 1)}…` : text;
}

module.exports = { A, ROUTE_OF, providerFacts, nameOf, whyOf };
