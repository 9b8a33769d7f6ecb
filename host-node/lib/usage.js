// Usage numbers from an upstream answer, validated at the boundary. Token counts must be finite,
// non-negative integers of at most MAX_TOKENS; a cost must be finite, non-negative and at most
// MAX_COST_USD. A value that fails is recorded as unknown (0 in the ledger, the request itself
// still counts) and named in `invalid`, so the caller logs it: nothing is dropped silently, and a
// hostile or broken upstream can neither refund a package (negative tokens) nor poison the ledger
// (NaN, Infinity, objects).
//
// Shapes read (sources):
//  - OpenAI Chat Completions `usage`: prompt_tokens, completion_tokens,
//    prompt_tokens_details.cached_tokens (already inside prompt_tokens), and OpenRouter's `cost`
//    (USD) — https://platform.openai.com/docs/api-reference/chat/object,
//    https://openrouter.ai/docs/use-cases/usage-accounting
//  - Anthropic Messages `usage`: input_tokens, output_tokens —
//    https://docs.anthropic.com/en/api/messages (cache token counts and their prices are the
//    wire-format issue's: they need a price of their own, not the input price)
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

// Reads fields into `out` ({tokens_in, tokens_out, cost, invalid[]}); fields: [outKey, srcKey, kind].
// A field that is absent leaves out[outKey] as it is (streams report usage in several events).
function take(out, src, fields, prefix) {
  for (const [key, name, kind] of fields) {
    if (!(name in src)) continue;
    const v = kind === 'cost' ? costValue(src[name]) : tokenCount(src[name]);
    if (v === undefined) continue;
    if (v === null) {
      out.invalid.push(`${prefix}${name}=${shown(src[name])}`);
      continue;
    }
    out[key] = v;
  }
}

const OPENAI_FIELDS = [['tokens_in', 'prompt_tokens', 'tokens'], ['tokens_out', 'completion_tokens', 'tokens'], ['cost', 'cost', 'cost']];
const ANTHROPIC_FIELDS = [['tokens_in', 'input_tokens', 'tokens'], ['tokens_out', 'output_tokens', 'tokens']];

class UsageReading {
  constructor() {
    this.tokens_in = 0;
    this.tokens_out = 0;
    this.cost = null;     // USD as the provider reported it, else null (priced from the catalog)
    this.invalid = [];    // "field=value" of every value rejected
  }

  // kind: 'openai' | 'anthropic'; u: the `usage` object of a response or a stream event.
  read(kind, u) {
    if (!u || typeof u !== 'object' || Array.isArray(u)) {
      if (u !== undefined && u !== null) this.invalid.push(`usage=${shown(u)}`);
      return this;
    }
    take(this, u, kind === 'anthropic' ? ANTHROPIC_FIELDS : OPENAI_FIELDS, 'usage.');
    return this;
  }

  // { tokens_in, tokens_out, cost } for the ledger.
  result() {
    return { tokens_in: this.tokens_in, tokens_out: this.tokens_out, cost: this.cost };
  }
}

// The usage of a whole (non-streamed) response body. Returns { usage, invalid }.
function usageFromJson(kind, json) {
  const r = new UsageReading();
  if (json && typeof json === 'object' && 'usage' in json) r.read(kind, json.usage);
  return { usage: r.result(), invalid: r.invalid };
}

module.exports = { UsageReading, usageFromJson, tokenCount, costValue, MAX_TOKENS, MAX_COST_USD };
