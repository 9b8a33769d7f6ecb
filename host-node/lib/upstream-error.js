// A provider's error body, whatever its shape, as { message, type, code, param } in OpenAI's
// vocabulary, so that the client gets it in its own format with the provider's code and param kept
// (context_length_exceeded stays itself). Shapes read: OpenAI and the Responses API
// `{error: {message, type, code, param}}`, Anthropic `{type: "error", error: {type, message}}`,
// Google's arrays `[{error: {...}}]`, `{error: "text"}`, `{message}` and plain text.
'use strict';

// Anthropic's error types -> OpenAI's (https://docs.anthropic.com/en/api/errors).
const FROM_ANTHROPIC = { invalid_request_error: 'invalid_request_error', authentication_error: 'authentication_error', permission_error: 'permission_error',
  not_found_error: 'not_found_error', request_too_large: 'invalid_request_error', rate_limit_error: 'rate_limit_error', api_error: 'server_error',
  overloaded_error: 'overloaded_error', billing_error: 'insufficient_quota' };
const TYPE_BY_STATUS = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 409: 'invalid_request_error',
  413: 'invalid_request_error', 422: 'invalid_request_error', 429: 'rate_limit_error' };

const str = (v, max = 2000) => (typeof v === 'string' ? v.slice(0, max) : v === undefined || v === null ? null : String(v).slice(0, max));

// text: the body (at most MAX_UPSTREAM_ERROR_BODY bytes); status: the HTTP status.
function upstreamError(text, status) {
  let j = null;
  try {
    j = JSON.parse(text);
  } catch { /* plain text */ }
  if (Array.isArray(j)) j = j[0];
  const e = j && typeof j === 'object' ? (j.error !== undefined ? j.error : j) : null;
  if (e && typeof e === 'object') {
    const anthropic = j.type === 'error';
    const rawType = str(e.type, 100);
    const type = anthropic ? FROM_ANTHROPIC[rawType] || TYPE_BY_STATUS[status] || 'invalid_request_error'
      : rawType || TYPE_BY_STATUS[status] || (status >= 500 ? 'server_error' : 'invalid_request_error');
    const code = anthropic ? rawType : (typeof e.code === 'string' || typeof e.code === 'number' ? str(e.code, 100) : (e.status && str(e.status, 100)) || null);
    return { message: str(e.message) || str(j.message) || '', type, code, param: str(e.param, 200) };
  }
  if (typeof e === 'string') return { message: e.slice(0, 2000), type: TYPE_BY_STATUS[status] || 'invalid_request_error', code: null, param: null };
  return { message: String(text || '').slice(0, 200), type: TYPE_BY_STATUS[status] || 'invalid_request_error', code: null, param: null };
}

module.exports = { upstreamError };
