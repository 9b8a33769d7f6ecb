// The neutral form every wire codec converts to and from (one codec per format: openai-chat.js,
// anthropic-messages.js, openai-responses.js; never pairwise). Only translated traffic goes
// through it: a request whose client and provider speak the same format is passed through byte
// for byte (proxy.js).
//
// Request   { model, system: [Part text], messages: [Message], tools: [Tool], tool_choice,
//             max_tokens, temperature, top_p, stop: [string], stream, user, reasoning,
//             dropped: [string] }
// Message   { role: 'system' | 'user' | 'assistant' | 'tool', content: [Part] }
//             ('system' inside messages: an instruction given mid-conversation; 'tool': results)
// Part      { type: 'text', text } | { type: 'image', url } | { type: 'image', media_type, data }
//           | { type: 'tool_call', id, name, arguments }   (arguments: JSON text)
//           | { type: 'tool_result', id, content: string, is_error }
//           | { type: 'reasoning', text, signature }       (signature: Anthropic's, else null)
// Tool      { name, description, parameters }            (parameters: JSON Schema object)
// tool_choice  null | 'auto' | 'none' | 'required' | { name }
// reasoning    null | { effort: 'low'|'medium'|'high', budget_tokens }
// Response  { id, model, content: [Part], stop_reason, usage }
// stop_reason  'end' | 'max_tokens' | 'stop_sequence' | 'tool_calls' | 'content_filter'
// Usage     { input, output, cached_read, cache_write }  tokens; `input` counts every input token,
//           cached ones included (OpenAI's meaning; Anthropic's input_tokens excludes them)
// Stream events, in order:
//   { type: 'start', id, model, usage }
//   { type: 'block_start', index, block: { type: 'text' } | { type: 'reasoning' }
//                                        | { type: 'tool_call', id, name } }
//   { type: 'delta', index, text }            (text and reasoning blocks)
//   { type: 'delta', index, arguments }       (tool_call blocks: a piece of the JSON text)
//   { type: 'delta', index, signature }       (reasoning blocks, Anthropic)
//   { type: 'block_stop', index }
//   { type: 'usage', usage }                  (a partial reading; later ones win field by field)
//   { type: 'finish', stop_reason, usage }
// Error     { status, type, code, message, param }  (type in OpenAI's vocabulary:
//           invalid_request_error, authentication_error, permission_error, not_found_error,
//           rate_limit_error, server_error, overloaded_error)
'use strict';
const crypto = require('node:crypto');

class WireError extends Error {
  // status: the HTTP status to answer; code: a stable machine-readable code; param: the field.
  constructor(status, message, { code = 'invalid_request', type = 'invalid_request_error', param = null } = {}) {
    super(message);
    Object.assign(this, { status, code, type, param });
  }
}

const emptyUsage = () => ({ input: 0, output: 0, cached_read: 0, cache_write: 0 });

// Merges a partial usage reading into `into` (fields present in `u` win).
function mergeUsage(into, u) {
  if (!u) return into;
  for (const k of ['input', 'output', 'cached_read', 'cache_write']) if (Number.isFinite(u[k])) into[k] = u[k];
  return into;
}

const newId = (prefix) => `${prefix}${crypto.randomBytes(12).toString('hex')}`;

// A non-negative integer token count from outside, else 0.
const count = (v) => (Number.isInteger(v) && v >= 0 && v <= 1e9 ? v : 0);

// Text of a content value that may be a string or a list of parts with `text`.
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('');
}

// JSON text of tool-call arguments, whatever shape they came in.
function argumentsText(v) {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v ?? {});
  } catch {
    return '{}';
  }
}

// Arguments as an object for Anthropic's tool_use.input; text that is not a JSON object is kept
// under `_raw` rather than lost.
function argumentsObject(text) {
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : { _raw: text };
  } catch {
    return { _raw: text };
  }
}

module.exports = { WireError, emptyUsage, mergeUsage, newId, count, textOf, argumentsText, argumentsObject };
