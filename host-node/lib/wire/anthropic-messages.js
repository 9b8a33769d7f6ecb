// Codec: Anthropic Messages <-> the neutral form (neutral.js).
// Source of the format: https://docs.anthropic.com/en/api/messages,
// https://docs.anthropic.com/en/api/messages-streaming (events, error events),
// https://docs.anthropic.com/en/api/errors (error types by status).
// Claude Code specifics read here: `role: "system"` turns inside `messages` (kept as in-place
// system turns), beta-only fields (`context_management`, `output_config`, `thinking: adaptive`)
// which are dropped for a provider of another format.
'use strict';
const { WireError, emptyUsage, mergeUsage, newId, count, textOf, argumentsText, argumentsObject } = require('./neutral');

const STOP_IN = { end_turn: 'end', max_tokens: 'max_tokens', stop_sequence: 'stop_sequence', tool_use: 'tool_calls', pause_turn: 'end', refusal: 'content_filter' };
const STOP_OUT = { end: 'end_turn', max_tokens: 'max_tokens', stop_sequence: 'stop_sequence', tool_calls: 'tool_use', content_filter: 'refusal' };
const KNOWN = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'max_tokens', 'temperature', 'top_p', 'stop_sequences', 'stream', 'metadata', 'thinking']);
// Tool ids must match ^[a-zA-Z0-9_-]+$ in Messages; ids from other providers (functions.bash:0)
// are mapped the same way in tool_use and tool_result, so they still pair.
const toolId = (id) => String(id).replace(/[^a-zA-Z0-9_-]/g, '_') || 'tool';
// Thinking budgets for a reasoning effort asked in another format.
const BUDGET = { minimal: 1024, low: 1024, medium: 4096, high: 16384 };
const DEFAULT_MAX_TOKENS = 8192;  // Messages requires max_tokens; used when the client gave none

// Error types by HTTP status (https://docs.anthropic.com/en/api/errors).
const TYPE_BY_STATUS = { 400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 502: 'api_error', 503: 'api_error', 504: 'api_error', 529: 'overloaded_error' };
// Neutral (OpenAI-vocabulary) types -> Anthropic's, for errors that carry a type.
const TYPE_OUT = { invalid_request_error: 'invalid_request_error', authentication_error: 'authentication_error', permission_error: 'permission_error',
  not_found_error: 'not_found_error', rate_limit_error: 'rate_limit_error', server_error: 'api_error', overloaded_error: 'overloaded_error',
  api_error: 'api_error', request_too_large: 'request_too_large', billing_error: 'billing_error' };

function usageIn(u) {
  if (!u || typeof u !== 'object') return null;
  const out = {};
  const read = count(u.cache_read_input_tokens), write = count(u.cache_creation_input_tokens);
  if ('input_tokens' in u) out.input = count(u.input_tokens) + read + write;
  if ('output_tokens' in u) out.output = count(u.output_tokens);
  if ('cache_read_input_tokens' in u) out.cached_read = read;
  if ('cache_creation_input_tokens' in u) out.cache_write = write;
  return out;
}

function usageOut(u) {
  return { input_tokens: Math.max(0, u.input - u.cached_read - u.cache_write), output_tokens: u.output,
    cache_creation_input_tokens: u.cache_write, cache_read_input_tokens: u.cached_read };
}

function blocksIn(content, where, role, dropped = null) {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw new WireError(400, `${where}: expected a string or a list of content blocks`, { param: where });
  const out = [];
  for (const b of content) {
    if (!b || typeof b !== 'object') continue;
    if (b.type === 'text') out.push({ type: 'text', text: String(b.text ?? '') });
    else if (b.type === 'image' && b.source) {
      if (b.source.type === 'base64') out.push({ type: 'image', media_type: b.source.media_type, data: b.source.data });
      else if (b.source.type === 'url') out.push({ type: 'image', url: b.source.url });
    } else if (b.type === 'tool_use') out.push({ type: 'tool_call', id: String(b.id || newId('toolu_')), name: String(b.name || ''), arguments: argumentsText(b.input) });
    else if (b.type === 'tool_result') {
      const parts = typeof b.content === 'string' ? [{ type: 'text', text: b.content }] : blocksIn(Array.isArray(b.content) ? b.content : [], where, role, dropped)
        .filter((p) => p.type === 'text' || p.type === 'image');
      out.push({ type: 'tool_result', id: String(b.tool_use_id || ''), content: parts.filter((p) => p.type === 'text').map((p) => p.text).join('\n'), parts, is_error: b.is_error === true });
    } else if (b.type === 'thinking' && role === 'assistant') out.push({ type: 'reasoning', text: String(b.thinking ?? ''), signature: b.signature || null });
    else if (dropped && b.type !== 'redacted_thinking') dropped.push(`content[${String(b.type).slice(0, 40)}]`);
  }
  return out;
}

// body (the client's JSON) -> neutral request. Throws WireError.
function decodeRequest(body) {
  if (!Array.isArray(body.messages)) throw new WireError(400, 'messages: Field required', { param: 'messages' });
  const req = { model: body.model, system: [], messages: [], tools: [], tool_choice: null, max_tokens: null, temperature: null, top_p: null,
    stop: [], stream: body.stream === true, user: null, reasoning: null, parallel_tool_calls: null, dropped: [] };
  if (typeof body.system === 'string' && body.system) req.system.push({ type: 'text', text: body.system });
  else if (Array.isArray(body.system)) for (const b of body.system) if (b && typeof b.text === 'string') req.system.push({ type: 'text', text: b.text });
  body.messages.forEach((m, i) => {
    const where = `messages.${i}`;
    if (!m || typeof m !== 'object') throw new WireError(400, `${where}: expected an object`, { param: where });
    if (m.role === 'system') {
      req.messages.push({ role: 'system', content: [{ type: 'text', text: textOf(m.content) }] });
      return;
    }
    if (m.role !== 'user' && m.role !== 'assistant') throw new WireError(400, `${where}.role: expected user or assistant`, { param: `${where}.role` });
    const parts = blocksIn(m.content, `${where}.content`, m.role, req.dropped);
    // Tool results travel in user turns in Messages; in the neutral form they are their own turn.
    const results = parts.filter((p) => p.type === 'tool_result');
    const rest = parts.filter((p) => p.type !== 'tool_result');
    if (results.length) req.messages.push({ role: 'tool', content: results });
    if (rest.length || !results.length) req.messages.push({ role: m.role, content: rest });
  });
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (t && typeof t.name === 'string' && (t.type === undefined || t.type === 'custom') && t.input_schema) {
      req.tools.push({ name: t.name, description: t.description || '', parameters: t.input_schema });
    } else req.dropped.push(`tools[${(t && (t.type || t.name)) || '?'}]`);
  }
  const tc = body.tool_choice;
  if (tc && tc.type === 'auto') req.tool_choice = 'auto';
  else if (tc && tc.type === 'any') req.tool_choice = 'required';
  else if (tc && tc.type === 'none') req.tool_choice = 'none';
  else if (tc && tc.type === 'tool' && typeof tc.name === 'string') req.tool_choice = { name: tc.name };
  if (tc && tc.disable_parallel_tool_use === true) req.parallel_tool_calls = false;
  if (Number.isInteger(body.max_tokens) && body.max_tokens > 0) req.max_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') req.temperature = body.temperature;
  if (typeof body.top_p === 'number') req.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences)) req.stop = body.stop_sequences.filter((s) => typeof s === 'string');
  // metadata.user_id stays with Anthropic: Claude Code puts its device and session ids there.
  if (body.metadata && body.metadata.user_id !== undefined) req.dropped.push('metadata.user_id');
  if (body.thinking && body.thinking.type === 'enabled' && Number.isInteger(body.thinking.budget_tokens)) {
    const b = body.thinking.budget_tokens;
    req.reasoning = { effort: b >= 16000 ? 'high' : b >= 4000 ? 'medium' : 'low', budget_tokens: b };
  } else if (body.thinking && body.thinking.type && body.thinking.type !== 'disabled') req.dropped.push(`thinking.${body.thinking.type}`);
  for (const k of Object.keys(body)) if (!KNOWN.has(k)) req.dropped.push(k);
  return req;
}

const imageOut = (p) => ({ type: 'image', source: p.url ? { type: 'url', url: p.url } : { type: 'base64', media_type: p.media_type, data: p.data } });

function blocksOut(parts) {
  const out = [];
  for (const p of parts) {
    if (p.type === 'text') {
      if (p.text) out.push({ type: 'text', text: p.text });
    } else if (p.type === 'image') out.push(imageOut(p));
    else if (p.type === 'tool_call') out.push({ type: 'tool_use', id: toolId(p.id), name: p.name, input: argumentsObject(p.arguments) });
    else if (p.type === 'tool_result') {
      const images = (p.parts || []).filter((x) => x.type === 'image');
      const content = images.length ? [...(p.content ? [{ type: 'text', text: p.content }] : []), ...images.map(imageOut)] : p.content;
      out.push({ type: 'tool_result', tool_use_id: toolId(p.id), content, ...(p.is_error ? { is_error: true } : {}) });
    } else if (p.type === 'reasoning' && p.signature) out.push({ type: 'thinking', thinking: p.text, signature: p.signature });
  }
  return out;
}

// neutral request -> Messages body for an upstream. System turns inside the conversation join the
// top-level system (Messages has no system role in messages).
function encodeRequest(req, { model, stream, dropped = [] }) {
  const system = req.system.map((p) => p.text);
  const messages = [];
  const turns = req.messages.filter((m) => m.role !== 'system');
  for (const m of req.messages) {
    if (m.role === 'system') {
      system.push(m.content.map((p) => p.text || '').join(''));
      continue;
    }
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    let blocks = blocksOut(m.content);
    if (!blocks.length && role === 'user' && m === turns[turns.length - 1]) {
      // An empty last user turn: dropping it would make the assistant turn before it a prefill.
      blocks = [{ type: 'text', text: '(empty message)' }];
      dropped.push('an empty user message (sent as "(empty message)")');
    }
    if (!blocks.length) continue;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);  // Messages alternates user/assistant
    else messages.push({ role, content: blocks });
  }
  const body = { model, max_tokens: req.max_tokens || DEFAULT_MAX_TOKENS, messages };
  const sys = system.filter(Boolean).join('\n\n');
  if (sys) body.system = sys;
  if (req.tools.length) body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  if (req.tool_choice === 'auto') body.tool_choice = { type: 'auto' };
  else if (req.tool_choice === 'required') body.tool_choice = { type: 'any' };
  else if (req.tool_choice === 'none') body.tool_choice = { type: 'none' };
  else if (req.tool_choice && req.tool_choice.name) body.tool_choice = { type: 'tool', name: req.tool_choice.name };
  if (req.parallel_tool_calls === false && req.tools.length) body.tool_choice = { ...(body.tool_choice || { type: 'auto' }), disable_parallel_tool_use: true };
  if (req.reasoning && req.reasoning.effort) {
    // Thinking takes a budget, needs max_tokens above it, and allows no sampling settings.
    const budget = req.reasoning.budget_tokens || BUDGET[req.reasoning.effort] || 4096;
    body.thinking = { type: 'enabled', budget_tokens: budget };
    body.max_tokens = Math.max(body.max_tokens, budget + 1024);
    if (req.temperature !== null || req.top_p !== null) dropped.push('temperature/top_p (not allowed with thinking)');
  } else if (req.temperature !== null) {
    body.temperature = Math.min(1, Math.max(0, req.temperature));  // Messages: 0..1
    if (req.top_p !== null) dropped.push('top_p (recent Claude models refuse it beside temperature)');
  } else if (req.top_p !== null) body.top_p = req.top_p;
  if (req.stop.length) body.stop_sequences = req.stop;
  if (req.user) body.metadata = { user_id: req.user };
  if (!messages.length) throw new WireError(400, 'the conversation has no content this provider\'s format can carry', { param: 'messages' });
  if (stream) body.stream = true;
  return body;
}

// A Messages response (upstream JSON) -> neutral response.
function decodeResponse(json) {
  return { id: String(json.id || newId('msg_')), model: json.model, content: blocksIn(Array.isArray(json.content) ? json.content : [], 'content', 'assistant'),
    stop_reason: STOP_IN[json.stop_reason] || 'end', usage: mergeUsage(emptyUsage(), usageIn(json.usage)) };
}

// neutral response -> Messages JSON for the client.
function encodeResponse(resp, { model }) {
  const content = [];
  for (const p of resp.content) {
    if (p.type === 'reasoning') content.push({ type: 'thinking', thinking: p.text, signature: p.signature || '' });
    else if (p.type === 'text') content.push({ type: 'text', text: p.text });
    else if (p.type === 'tool_call') content.push({ type: 'tool_use', id: p.id, name: p.name, input: argumentsObject(p.arguments) });
  }
  return { id: resp.id.startsWith('msg_') ? resp.id : `msg_${resp.id}`, type: 'message', role: 'assistant', model, content,
    stop_reason: STOP_OUT[resp.stop_reason] || 'end_turn', stop_sequence: null, usage: usageOut(resp.usage) };
}

// Upstream events (parsed `data:` JSON) -> neutral events.
class StreamDecoder {
  constructor() {
    this.usage = emptyUsage();
    this.stop = null;
    this.started = false;
    this.openBlocks = new Set();
    this.done = false;
    this.complete = false;  // message_stop seen
  }

  push(data) {
    const out = [];
    if (!data || typeof data !== 'object') return out;
    switch (data.type) {
      case 'message_start': {
        const m = data.message || {};
        mergeUsage(this.usage, usageIn(m.usage));
        this.started = true;
        out.push({ type: 'start', id: String(m.id || newId('msg_')), model: m.model, usage: { ...this.usage } });
        break;
      }
      case 'content_block_start': {
        const b = data.content_block || {};
        const block = b.type === 'tool_use' ? { type: 'tool_call', id: String(b.id || newId('toolu_')), name: String(b.name || '') }
          : b.type === 'thinking' ? { type: 'reasoning' } : { type: 'text' };
        this.openBlocks.add(data.index);
        out.push({ type: 'block_start', index: data.index, block });
        if (b.type === 'text' && b.text) out.push({ type: 'delta', index: data.index, text: b.text });
        // A tool_use whose input came whole in the start event (no input_json_delta follows).
        if (b.type === 'tool_use' && b.input && typeof b.input === 'object' && Object.keys(b.input).length) {
          out.push({ type: 'delta', index: data.index, arguments: argumentsText(b.input) });
        }
        break;
      }
      case 'content_block_delta': {
        const d = data.delta || {};
        if (d.type === 'text_delta') out.push({ type: 'delta', index: data.index, text: String(d.text ?? '') });
        else if (d.type === 'input_json_delta') out.push({ type: 'delta', index: data.index, arguments: String(d.partial_json ?? '') });
        else if (d.type === 'thinking_delta') out.push({ type: 'delta', index: data.index, text: String(d.thinking ?? '') });
        else if (d.type === 'signature_delta') out.push({ type: 'delta', index: data.index, signature: String(d.signature ?? '') });
        break;
      }
      case 'content_block_stop':
        this.openBlocks.delete(data.index);
        out.push({ type: 'block_stop', index: data.index });
        break;
      case 'message_delta':
        mergeUsage(this.usage, usageIn(data.usage));
        if (data.delta && data.delta.stop_reason) this.stop = STOP_IN[data.delta.stop_reason] || 'end';
        out.push({ type: 'usage', usage: { ...this.usage } });
        break;
      case 'message_stop':
        mergeUsage(this.usage, usageIn(data.usage));  // not where Anthropic puts it, but some proxies do
        this.complete = true;
        return this.end(out);
      case 'error': {
        const e = data.error || {};
        out.push({ type: 'error', error: { status: e.type === 'overloaded_error' ? 529 : 502, type: e.type === 'overloaded_error' ? 'overloaded_error' : 'server_error',
          code: e.type || null, message: String(e.message || 'upstream error'), param: null } });
        break;
      }
      default:
        break;  // ping
    }
    return out;
  }

  end(out = []) {
    if (this.done) return out;
    this.done = true;
    if (!this.started) out.push({ type: 'start', id: newId('msg_'), model: null, usage: emptyUsage() });
    for (const i of this.openBlocks) out.push({ type: 'block_stop', index: i });
    this.openBlocks.clear();
    out.push({ type: 'finish', stop_reason: this.stop || 'end', usage: { ...this.usage } });
    return out;
  }
}

const sse = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

// Neutral events -> Messages SSE text for the client; `terminal` is message_stop.
class StreamEncoder {
  constructor({ model }) {
    this.model = model;
    this.id = newId('msg_');
    this.index = new Map();  // neutral block index -> our content index
    this.next = 0;
    this.types = new Map();
    this.started = false;
  }

  start(usage) {
    if (this.started) return '';
    this.started = true;
    return sse('message_start', { type: 'message_start', message: { id: this.id, type: 'message', role: 'assistant', model: this.model, content: [],
      stop_reason: null, stop_sequence: null, usage: usageOut(usage || emptyUsage()) } });
  }

  encode(ev) {
    let text = '';
    if (ev.type === 'start') text = this.start(ev.usage);
    else if (ev.type === 'block_start') {
      text = this.start();
      const i = this.next++;
      this.index.set(ev.index, i);
      this.types.set(ev.index, ev.block.type);
      const block = ev.block.type === 'tool_call' ? { type: 'tool_use', id: ev.block.id, name: ev.block.name, input: {} }
        : ev.block.type === 'reasoning' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' };
      text += sse('content_block_start', { type: 'content_block_start', index: i, content_block: block });
    } else if (ev.type === 'delta') {
      const i = this.index.get(ev.index);
      if (i === undefined) return { text: '', terminal: '' };
      const t = this.types.get(ev.index);
      let delta = null;
      if (t === 'tool_call' && ev.arguments) delta = { type: 'input_json_delta', partial_json: ev.arguments };
      else if (t === 'reasoning' && ev.signature) delta = { type: 'signature_delta', signature: ev.signature };
      else if (t === 'reasoning' && ev.text) delta = { type: 'thinking_delta', thinking: ev.text };
      else if (t === 'text' && ev.text) delta = { type: 'text_delta', text: ev.text };
      if (delta) text = sse('content_block_delta', { type: 'content_block_delta', index: i, delta });
    } else if (ev.type === 'block_stop') {
      const i = this.index.get(ev.index);
      if (i !== undefined) text = sse('content_block_stop', { type: 'content_block_stop', index: i });
    } else if (ev.type === 'finish') {
      text = this.start() + sse('message_delta', { type: 'message_delta', delta: { stop_reason: STOP_OUT[ev.stop_reason] || 'end_turn', stop_sequence: null }, usage: usageOut(ev.usage) });
      return { text, terminal: sse('message_stop', { type: 'message_stop' }) };
    } else if (ev.type === 'error') {
      text = encodeStreamError(ev.error);
    }
    return { text, terminal: '' };
  }
}

function errorType(err) {
  return TYPE_OUT[err.type] && err.type !== 'invalid_request_error' ? TYPE_OUT[err.type] : TYPE_BY_STATUS[err.status] || (err.status >= 500 ? 'api_error' : 'invalid_request_error');
}

// An error in Anthropic's shape: { type: "error", error: { type, message } }.
function encodeError(err) {
  return { type: 'error', error: { type: errorType(err), message: err.message } };
}

function encodeStreamError(err) {
  return sse('error', encodeError(err));
}

module.exports = { format: 'messages', decodeRequest, encodeRequest, decodeResponse, encodeResponse, StreamDecoder, StreamEncoder, encodeError, encodeStreamError, usageIn, errorType };
