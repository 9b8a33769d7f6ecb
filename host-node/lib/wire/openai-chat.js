// Codec: OpenAI Chat Completions <-> the neutral form (neutral.js).
// Source of the format: https://platform.openai.com/docs/api-reference/chat (request, response,
// chunk objects); DeepSeek's `reasoning_content` (https://api-docs.deepseek.com/guides/reasoning_model)
// is read as reasoning. Requests we cannot represent (n > 1) are refused with a WireError.
'use strict';
const { WireError, emptyUsage, mergeUsage, newId, count, textOf, argumentsText } = require('./neutral');

const FINISH_IN = { stop: 'end', length: 'max_tokens', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter' };
const FINISH_OUT = { end: 'stop', max_tokens: 'length', stop_sequence: 'stop', tool_calls: 'tool_calls', content_filter: 'content_filter' };
const KNOWN = new Set(['model', 'messages', 'tools', 'tool_choice', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop',
  'stream', 'stream_options', 'user', 'reasoning_effort', 'n', 'parallel_tool_calls']);

function usageIn(u) {
  if (!u || typeof u !== 'object') return null;
  return { input: count(u.prompt_tokens), output: count(u.completion_tokens),
    cached_read: count(u.prompt_tokens_details && u.prompt_tokens_details.cached_tokens), cache_write: 0 };
}

function usageOut(u) {
  return { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached_read } };  // OpenAI's field counts cache hits only
}

function partsIn(content, where, dropped = null) {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw new WireError(400, `${where}: expected a string or a list of content parts`, { param: where });
  const out = [];
  for (const p of content) {
    if (!p || typeof p !== 'object') continue;
    if (p.type === 'text' && typeof p.text === 'string') out.push({ type: 'text', text: p.text });
    else if (p.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : p.image_url && p.image_url.url;
      const m = typeof url === 'string' && /^data:([^;,]+);base64,(.*)$/s.exec(url);
      if (m) out.push({ type: 'image', media_type: m[1], data: m[2] });
      else if (typeof url === 'string') out.push({ type: 'image', url });
    } else if (dropped) dropped.push(`content[${String(p.type).slice(0, 40)}]`);
  }
  return out;
}

// body (the client's JSON) -> neutral request. Throws WireError.
function decodeRequest(body) {
  if (!Array.isArray(body.messages)) throw new WireError(400, '"messages" must be an array', { param: 'messages' });
  if (Number.isInteger(body.n) && body.n > 1) throw new WireError(400, '"n" > 1 cannot be translated to this provider', { param: 'n' });
  const req = { model: body.model, system: [], messages: [], tools: [], tool_choice: null, max_tokens: null, temperature: null, top_p: null,
    stop: [], stream: body.stream === true, user: typeof body.user === 'string' ? body.user : null, reasoning: null,
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : null, dropped: [] };
  body.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!m || typeof m !== 'object') throw new WireError(400, `${where}: expected an object`, { param: where });
    if (m.role === 'system' || m.role === 'developer') {
      const text = textOf(m.content);
      if (req.messages.length === 0) req.system.push({ type: 'text', text });
      else req.messages.push({ role: 'system', content: [{ type: 'text', text }] });
    } else if (m.role === 'user') {
      req.messages.push({ role: 'user', content: partsIn(m.content, `${where}.content`, req.dropped) });
    } else if (m.role === 'assistant') {
      const content = [];
      if (typeof m.reasoning_content === 'string' && m.reasoning_content) content.push({ type: 'reasoning', text: m.reasoning_content, signature: null });
      content.push(...partsIn(m.content, `${where}.content`));
      for (const c of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
        if (!c || !c.function) continue;
        content.push({ type: 'tool_call', id: String(c.id || newId('call_')), name: String(c.function.name || ''), arguments: argumentsText(c.function.arguments) });
      }
      req.messages.push({ role: 'assistant', content });
    } else if (m.role === 'tool') {
      const parts = partsIn(m.content, `${where}.content`, req.dropped);
      const part = { type: 'tool_result', id: String(m.tool_call_id || ''), content: parts.filter((p) => p.type === 'text').map((p) => p.text).join('\n'), parts, is_error: false };
      const last = req.messages[req.messages.length - 1];
      if (last && last.role === 'tool') last.content.push(part);  // parallel calls' results: one turn
      else req.messages.push({ role: 'tool', content: [part] });
    } else {
      throw new WireError(400, `${where}.role: expected system, developer, user, assistant or tool`, { param: `${where}.role` });
    }
  });
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (t && t.type === 'function' && t.function && typeof t.function.name === 'string') {
      req.tools.push({ name: t.function.name, description: t.function.description || '', parameters: t.function.parameters || { type: 'object', properties: {} } });
    } else req.dropped.push(`tools[${t && t.type}]`);
  }
  const tc = body.tool_choice;
  if (tc === 'auto' || tc === 'none' || tc === 'required') req.tool_choice = tc;
  else if (tc && tc.function && typeof tc.function.name === 'string') req.tool_choice = { name: tc.function.name };
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (Number.isInteger(max) && max > 0) req.max_tokens = max;
  if (typeof body.temperature === 'number') req.temperature = body.temperature;
  if (typeof body.top_p === 'number') req.top_p = body.top_p;
  if (typeof body.stop === 'string') req.stop = [body.stop];
  else if (Array.isArray(body.stop)) req.stop = body.stop.filter((s) => typeof s === 'string');
  if (['low', 'medium', 'high', 'minimal'].includes(body.reasoning_effort)) req.reasoning = { effort: body.reasoning_effort, budget_tokens: null };
  for (const k of Object.keys(body)) if (!KNOWN.has(k)) req.dropped.push(k);
  return req;
}

function partsOut(parts) {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => p.text).join('');
  return parts.filter((p) => p.type === 'text' || p.type === 'image').map((p) => (p.type === 'text' ? { type: 'text', text: p.text }
    : { type: 'image_url', image_url: { url: p.url || `data:${p.media_type};base64,${p.data}` } }));
}

// neutral request -> Chat Completions body for an upstream. dropped: collects what Chat cannot carry.
function encodeRequest(req, { model, stream, dropped = [] }) {
  const messages = [];
  const system = req.system.map((p) => p.text).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of req.messages) {
    if (m.role === 'system') messages.push({ role: 'system', content: m.content.map((p) => p.text || '').join('') });
    else if (m.role === 'assistant') {
      const text = m.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
      const calls = m.content.filter((p) => p.type === 'tool_call');
      const msg = { role: 'assistant', content: text || (calls.length ? null : '') };
      if (calls.length) msg.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments || '{}' } }));
      messages.push(msg);
    } else {
      // Tool results become `tool` messages (before the rest of the turn's user content).
      for (const p of m.content) {
        if (p.type !== 'tool_result') continue;
        if ((p.parts || []).some((x) => x.type === 'image')) dropped.push('an image in a tool result (Chat tool messages carry text)');
        if (p.is_error) dropped.push('is_error of a tool result');
        messages.push({ role: 'tool', tool_call_id: p.id, content: p.content });
      }
      const rest = m.content.filter((p) => p.type === 'text' || p.type === 'image');
      if (rest.length) messages.push({ role: 'user', content: partsOut(rest) });
    }
  }
  const body = { model, messages };
  if (req.tools.length) body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  if (req.tool_choice) body.tool_choice = typeof req.tool_choice === 'string' ? req.tool_choice : { type: 'function', function: { name: req.tool_choice.name } };
  if (req.parallel_tool_calls !== null && req.tools.length) body.parallel_tool_calls = req.parallel_tool_calls;
  if (req.max_tokens) body.max_tokens = req.max_tokens;
  if (req.temperature !== null) body.temperature = req.temperature;
  if (req.top_p !== null) body.top_p = req.top_p;
  if (req.stop.length) body.stop = req.stop;
  if (req.user) body.user = req.user;
  if (req.reasoning && req.reasoning.effort) body.reasoning_effort = req.reasoning.effort;
  for (const m of req.messages) if (m.role === 'assistant' && m.content.some((p) => p.type === 'reasoning')) dropped.push('reasoning in earlier turns');
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

// A Chat Completions response (upstream JSON) -> neutral response.
function decodeResponse(json) {
  const choice = (Array.isArray(json.choices) && json.choices[0]) || {};
  const msg = choice.message || {};
  const content = [];
  if (typeof msg.reasoning_content === 'string' && msg.reasoning_content) content.push({ type: 'reasoning', text: msg.reasoning_content, signature: null });
  if (typeof msg.content === 'string' && msg.content) content.push({ type: 'text', text: msg.content });
  for (const c of Array.isArray(msg.tool_calls) ? msg.tool_calls : []) {
    if (c && c.function) content.push({ type: 'tool_call', id: String(c.id || newId('call_')), name: String(c.function.name || ''), arguments: argumentsText(c.function.arguments) });
  }
  const stop = FINISH_IN[choice.finish_reason] || 'end';
  return { id: String(json.id || newId('chatcmpl-')), model: json.model, content, stop_reason: stop === 'end' && content.some((p) => p.type === 'tool_call') ? 'tool_calls' : stop,
    usage: mergeUsage(emptyUsage(), usageIn(json.usage)) };
}

// neutral response -> Chat Completions JSON for the client.
function encodeResponse(resp, { model }) {
  const text = resp.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
  const calls = resp.content.filter((p) => p.type === 'tool_call');
  const reasoning = resp.content.filter((p) => p.type === 'reasoning').map((p) => p.text).join('');
  const message = { role: 'assistant', content: text || (calls.length ? null : '') };
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length) message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return { id: resp.id.startsWith('chatcmpl') ? resp.id : `chatcmpl-${resp.id}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_OUT[resp.stop_reason] || 'stop' }], usage: usageOut(resp.usage) };
}

// Upstream chunks (parsed `data:` JSON, or '[DONE]') -> neutral events. Blocks are synthesised:
// a text run, a reasoning run and each tool call (by its index) are blocks.
class StreamDecoder {
  constructor() {
    this.started = false;
    this.open = null;        // { key, index } of the block being received
    this.next = 0;
    this.tools = new Map();  // tool index -> block index
    this.usage = emptyUsage();
    this.finish = null;
    this.done = false;
    this.complete = false;   // a finish_reason or [DONE] was seen: the upstream finished its answer
  }

  // Text and reasoning runs are sequential blocks; tool calls stay open until the end, because
  // Chat chunks key their argument deltas by index and may interleave parallel calls.
  block(key, block, out) {
    if (this.open && this.open.key === key) return this.open.index;
    if (this.open) out.push({ type: 'block_stop', index: this.open.index });
    const index = this.next++;
    this.open = block.type === 'tool_call' ? null : { key, index };
    out.push({ type: 'block_start', index, block });
    return index;
  }

  push(data) {
    const out = [];
    if (data === '[DONE]') {
      this.complete = true;
      return this.end(out);
    }
    if (!data || typeof data !== 'object') return out;
    if (data.error) {
      out.push({ type: 'error', error: { status: 502, type: 'server_error', code: data.error.code || null, message: String(data.error.message || 'upstream error'), param: null } });
      return out;
    }
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: String(data.id || newId('chatcmpl-')), model: data.model, usage: emptyUsage() });
    }
    const u = usageIn(data.usage);
    if (u) {
      mergeUsage(this.usage, u);
      out.push({ type: 'usage', usage: { ...this.usage } });
    }
    for (const choice of Array.isArray(data.choices) ? data.choices : []) {
      const d = choice.delta || {};
      if (typeof d.reasoning_content === 'string' && d.reasoning_content) out.push({ type: 'delta', index: this.block('reasoning', { type: 'reasoning' }, out), text: d.reasoning_content });
      if (typeof d.content === 'string' && d.content) out.push({ type: 'delta', index: this.block('text', { type: 'text' }, out), text: d.content });
      for (const c of Array.isArray(d.tool_calls) ? d.tool_calls : []) {
        const ti = Number.isInteger(c.index) ? c.index : this.tools.size;
        let index = this.tools.get(ti);
        if (index === undefined) {
          index = this.block(`tool${ti}`, { type: 'tool_call', id: String(c.id || newId('call_')), name: String((c.function && c.function.name) || '') }, out);
          this.tools.set(ti, index);
        }
        const args = c.function && c.function.arguments;
        if (typeof args === 'string' && args) out.push({ type: 'delta', index, arguments: args });
        else if (args && typeof args === 'object') out.push({ type: 'delta', index, arguments: argumentsText(args) });
      }
      if (choice.finish_reason) {
        this.finish = FINISH_IN[choice.finish_reason] || 'end';
        this.complete = true;
      }
    }
    return out;
  }

  // The upstream ended ([DONE] or end of body).
  end(out = []) {
    if (this.done) return out;
    this.done = true;
    if (!this.started) out.push({ type: 'start', id: newId('chatcmpl-'), model: null, usage: emptyUsage() });
    if (this.open) out.push({ type: 'block_stop', index: this.open.index });
    this.open = null;
    for (const index of this.tools.values()) out.push({ type: 'block_stop', index });
    // Tool calls with finish_reason "stop" (Gemini's OpenAI endpoint does this) are tool calls.
    const stop = this.tools.size && (!this.finish || this.finish === 'end') ? 'tool_calls' : this.finish || 'end';
    out.push({ type: 'finish', stop_reason: stop, usage: { ...this.usage } });
    return out;
  }
}

// Neutral events -> Chat Completions SSE text for the client. encode() returns { text, terminal }:
// `terminal` ([DONE]) is for the proxy to send once the usage event is durable.
class StreamEncoder {
  constructor({ model, includeUsage = false }) {
    Object.assign(this, { model, includeUsage });
    this.id = newId('chatcmpl-');
    this.created = Math.floor(Date.now() / 1000);
    this.blocks = new Map();  // neutral index -> { type, tool }
    this.tools = 0;
    this.roleSent = false;
  }

  chunk(delta, finish = null, usage = undefined) {
    const c = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model,
      choices: usage && !delta ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (usage) c.usage = usage;
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  role(delta) {
    if (this.roleSent) return delta;
    this.roleSent = true;
    return { role: 'assistant', ...delta };
  }

  encode(ev) {
    let text = '';
    if (ev.type === 'start') {
      this.roleSent = true;
      text = this.chunk({ role: 'assistant', content: '' });
    } else if (ev.type === 'block_start') {
      const b = { type: ev.block.type, tool: null };
      if (ev.block.type === 'tool_call') {
        b.tool = this.tools++;
        text = this.chunk(this.role({ tool_calls: [{ index: b.tool, id: ev.block.id, type: 'function', function: { name: ev.block.name, arguments: '' } }] }));
      }
      this.blocks.set(ev.index, b);
    } else if (ev.type === 'delta') {
      const b = this.blocks.get(ev.index);
      if (!b) return { text: '', terminal: '' };
      if (b.type === 'text' && ev.text) text = this.chunk(this.role({ content: ev.text }));
      else if (b.type === 'reasoning' && ev.text) text = this.chunk(this.role({ reasoning_content: ev.text }));
      else if (b.type === 'tool_call' && ev.arguments) text = this.chunk({ tool_calls: [{ index: b.tool, function: { arguments: ev.arguments } }] });
    } else if (ev.type === 'finish') {
      text = this.chunk({}, FINISH_OUT[ev.stop_reason] || 'stop');
      if (this.includeUsage) text += this.chunk(null, null, usageOut(ev.usage));
      return { text, terminal: 'data: [DONE]\n\n' };
    } else if (ev.type === 'error') {
      text = encodeStreamError(ev.error);
    }
    return { text, terminal: '' };
  }
}

// An error in OpenAI's shape: { error: { message, type, code, param } }.
function encodeError(err) {
  return { error: { message: err.message, type: err.type || (err.status >= 500 ? 'server_error' : 'invalid_request_error'), code: err.code ?? null, param: err.param ?? null } };
}

// Mid-stream: Chat Completions has no named error event; clients read `data: {"error": ...}`.
function encodeStreamError(err) {
  return `data: ${JSON.stringify(encodeError(err))}\n\n`;
}

module.exports = { format: 'chat', decodeRequest, encodeRequest, decodeResponse, encodeResponse, StreamDecoder, StreamEncoder, encodeError, encodeStreamError, usageIn };
