// Usage numbers from an upstream answer, validated at the boundary. Token counts must be finite,
// non-negative integers of at most MAX_TOKENS; a cost must be finite, non-negative and at most
// MAX_COST_USD. A value that fails is recorded as unknown (0 in the ledger, the request itself
// still counts) and named in `invalid`, so the caller logs it: nothing is dropped silently, and a
// hostile or broken upstream can neither refund a package (negative tokens) nor poison the ledger
// (NaN, Infinity, objects).
//
// Shapes read (sources), by wire format:
//  - chat (OpenAI Chat Completions `usage`): prompt_tokens (cached ones included),
//    completion_tokens, prompt_tokens_details.cached_tokens, and OpenRouter's `cost` (USD) —
//    https://platform.openai.com/docs/api-reference/chat/object,
//    https://openrouter.ai/docs/use-cases/usage-accounting
//  - messages (Anthropic `usage`): input_tokens (cached ones NOT included),
//    cache_read_input_tokens, cache_creation_input_tokens, output_tokens —
//    https://docs.anthropic.com/en/api/messages
//  - responses (OpenAI Responses `usage`): input_tokens (cached included),
//    input_tokens_details.cached_tokens, output_tokens —
//    https://platform.openai.com/docs/api-reference/responses/object
// The result's tokens_in counts every input token, cached or not; tokens_cached counts cache reads
// and writes (Anthropic's both, OpenAI's cached_tokens), priced on their own (proxy costOf()).
'use strict';

const MAX_TOKENS = 1e9;      // per request; no model has a context near this
const MAX_COST_USD = 1e5;    // per request

// A token count: a non-negative integer <= MAX_TOKENS, else undefined (absent) or null (invalid).
function tokenCount(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS) return v;
  return null;
}

function costValue(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COST_USD) return v;
  return null;
}

// Shown in a log line: the offending value, bounded.
function shown(v) {
  let s;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return typeof s === 'string' ? s.slice(0, 80) : String(s);
}

const FORMAT = { openai: 'chat', anthropic: 'messages', chat: 'chat', messages: 'messages', responses: 'responses' };

class UsageReading {
  constructor() {
    this.input = 0;        // as the provider reports it (Anthropic: without cached tokens)
    this.output = 0;
    this.cached_read = 0;
    this.cache_write = 0;
    this.cost = null;      // USD as the provider reported it, else null (priced from the config)
    this.format = 'chat';
    this.invalid = [];     // "field=value" of every value rejected
  }

  field(path, v, set, kind = 'tokens') {
    if (v === undefined || v === null) return;
    const ok = kind === 'cost' ? costValue(v) : tokenCount(v);
    if (ok === null) this.invalid.push(`${path}=${shown(v)}`);
    else if (ok !== undefined) set(ok);
  }

  // format: 'chat' | 'messages' | 'responses' (or 'openai' | 'anthropic'); u: the `usage` object of
  // a response or a stream event. Absent fields leave earlier readings as they are (streams report
  // usage in several events).
  read(format, u) {
    this.format = FORMAT[format] || 'chat';
    if (u === undefined || u === null) return this;
    if (typeof u !== 'object' || Array.isArray(u)) {
      this.invalid.push(`usage=${shown(u)}`);
      return this;
    }
    const details = (d, name) => (d && typeof d === 'object' && !Array.isArray(d) ? d : (d !== undefined && d !== null ? (this.invalid.push(`usage.${name}=${shown(d)}`), {}) : {}));
    if (this.format === 'messages') {
      this.field('usage.input_tokens', u.input_tokens, (v) => { this.input = v; });
      this.field('usage.output_tokens', u.output_tokens, (v) => { this.output = v; });
      this.field('usage.cache_read_input_tokens', u.cache_read_input_tokens, (v) => { this.cached_read = v; });
      this.field('usage.cache_creation_input_tokens', u.cache_creation_input_tokens, (v) => { this.cache_write = v; });
    } else if (this.format === 'responses') {
      this.field('usage.input_tokens', u.input_tokens, (v) => { this.input = v; });
      this.field('usage.output_tokens', u.output_tokens, (v) => { this.output = v; });
      this.field('usage.input_tokens_details.cached_tokens', details(u.input_tokens_details, 'input_tokens_details').cached_tokens, (v) => { this.cached_read = v; });
    } else {
      this.field('usage.prompt_tokens', u.prompt_tokens, (v) => { this.input = v; });
      this.field('usage.completion_tokens', u.completion_tokens, (v) => { this.output = v; });
      this.field('usage.prompt_tokens_details.cached_tokens', details(u.prompt_tokens_details, 'prompt_tokens_details').cached_tokens, (v) => { this.cached_read = v; });
      this.field('usage.cost', u.cost, (v) => { this.cost = v; }, 'cost');
    }
    return this;
  }

  // { tokens_in, tokens_out, tokens_cached, cached_read, cache_write, cost } for the ledger and
  // pricing; tokens_in counts cached input too, whatever the format.
  result() {
    const cached = this.cached_read + this.cache_write;
    const tokensIn = this.format === 'messages' ? this.input + cached : Math.max(this.input, cached);
    return { tokens_in: Math.min(tokensIn, MAX_TOKENS), tokens_out: this.output, tokens_cached: Math.min(cached, MAX_TOKENS),
      cached_read: this.cached_read, cache_write: this.cache_write, cost: this.cost };
  }
}

// The usage of a whole (non-streamed) response body in `kind`'s format. Returns { usage, invalid }.
function usageFromJson(kind, json) {
  const r = new UsageReading();
  if (json && typeof json === 'object' && 'usage' in json) r.read(kind, json.usage);
  return { usage: r.result(), invalid: r.invalid };
}

module.exports = { UsageReading, usageFromJson, tokenCount, costValue, MAX_TOKENS, MAX_COST_USD };
