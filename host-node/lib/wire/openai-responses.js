// Codec: OpenAI Responses API <-> the neutral form (neutral.js). Stateless: the gateway keeps no
// responses, so `previous_response_id` is refused with a clear 400 (Codex CLI sends `store: false`
// and the whole `input` every turn, which needs nothing stored).
// Source of the format: https://platform.openai.com/docs/api-reference/responses (create, the
// response object) and https://platform.openai.com/docs/api-reference/responses-streaming (events);
// what Codex CLI sends and reads: role "developer" input messages, `function_call` /
// `function_call_output` items, `response.output_item.done` items and `response.completed` usage.
'use strict';
const { WireError, emptyUsage, mergeUsage, newId, count, textOf, argumentsText } = require('./neutral');

const KNOWN = new Set(['model', 'input', 'instructions', 'tools', 'tool_choice', 'max_output_tokens', 'temperature', 'top_p', 'stream', 'store',
  'previous_response_id', 'reasoning', 'parallel_tool_calls', 'include', 'user', 'metadata', 'prompt_cache_key']);

function usageIn(u) {
  if (!u || typeof u !== 'object') return null;
  return { input: count(u.input_tokens), output: count(u.output_tokens), cached_read: count(u.input_tokens_details && u.input_tokens_details.cached_tokens), cache_write: 0 };
}

function usageOut(u) {
  return { input_tokens: u.input, input_tokens_details: { cached_tokens: u.cached_read }, output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.input + u.output };
}

function partsIn(content, where) {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw new WireError(400, `${where}: expected a string or a list of content parts`, { param: where });
  const out = [];
  for (const p of content) {
    if (!p || typeof p !== 'object') continue;
    if ((p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') && typeof p.text === 'string') out.push({ type: 'text', text: p.text });
    else if (p.type === 'input_image' && typeof p.image_url === 'string') {
      const m = /^data:([^;,]+);base64,(.*)$/s.exec(p.image_url);
      out.push(m ? { type: 'image', media_type: m[1], data: m[2] } : { type: 'image', url: p.image_url });
    }
  }
  return out;
}

function previousResponseRefused() {
  return new WireError(400, 'previous_response_id is not supported: quotagate keeps no responses; send the whole conversation in `input` (store: false)',
    { param: 'previous_response_id', code: 'previous_response_not_found' });
}

// body (the client's JSON) -> neutral request. Throws WireError.
function decodeRequest(body) {
  if (body.previous_response_id) throw previousResponseRefused();
  const req = { model: body.model, system: [], messages: [], tools: [], tool_choice: null, max_tokens: null, temperature: null, top_p: null,
    stop: [], stream: body.stream === true, user: typeof body.user === 'string' ? body.user : null, reasoning: null,
    parallel_tool_calls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : null, dropped: [] };
  if (typeof body.instructions === 'string' && body.instructions) req.system.push({ type: 'text', text: body.instructions });
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  if (!Array.isArray(input)) throw new WireError(400, '"input" must be a string or a list of items', { param: 'input' });
  const last = () => req.messages[req.messages.length - 1];
  input.forEach((item, i) => {
    const where = `input[${i}]`;
    if (!item || typeof item !== 'object') throw new WireError(400, `${where}: expected an object`, { param: where });
    const type = item.type || (item.role ? 'message' : null);
    if (type === 'message') {
      if (item.role === 'system' || item.role === 'developer') {
        const text = textOf(item.content);
        if (req.messages.length === 0) req.system.push({ type: 'text', text });
        else req.messages.push({ role: 'system', content: [{ type: 'text', text }] });
      } else if (item.role === 'user' || item.role === 'assistant') {
        const parts = partsIn(item.content, `${where}.content`);
        if (item.role === 'assistant' && last() && last().role === 'assistant') last().content.push(...parts);
        else req.messages.push({ role: item.role, content: parts });
      } else throw new WireError(400, `${where}.role: expected user, assistant, system or developer`, { param: `${where}.role` });
    } else if (type === 'function_call') {
      const part = { type: 'tool_call', id: String(item.call_id || item.id || newId('call_')), name: String(item.name || ''), arguments: argumentsText(item.arguments) };
      if (last() && last().role === 'assistant') last().content.push(part);
      else req.messages.push({ role: 'assistant', content: [part] });
    } else if (type === 'function_call_output') {
      const parts = typeof item.output === 'string' ? [{ type: 'text', text: item.output }] : partsIn(Array.isArray(item.output) ? item.output : [], `${where}.output`);
      const part = { type: 'tool_result', id: String(item.call_id || ''), content: parts.filter((p) => p.type === 'text').map((p) => p.text).join('\n'), parts, is_error: false };
      if (last() && last().role === 'tool') last().content.push(part);
      else req.messages.push({ role: 'tool', content: [part] });
    } else if (type === 'reasoning') {
      const text = Array.isArray(item.summary) ? item.summary.map((s) => (s && s.text) || '').join('\n') : '';
      if (text) {
        if (last() && last().role === 'assistant') last().content.push({ type: 'reasoning', text, signature: null });
        else req.messages.push({ role: 'assistant', content: [{ type: 'reasoning', text, signature: null }] });
      }
    } else {
      req.dropped.push(`input[${type}]`);
    }
  });
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (t && t.type === 'function' && typeof t.name === 'string') req.tools.push({ name: t.name, description: t.description || '', parameters: t.parameters || { type: 'object', properties: {} } });
    else req.dropped.push(`tools[${(t && t.type) || '?'}${t && t.name ? `:${t.name}` : ''}]`);
  }
  const tc = body.tool_choice;
  if (tc === 'auto' || tc === 'none' || tc === 'required') req.tool_choice = tc;
  else if (tc && tc.type === 'function' && typeof tc.name === 'string') req.tool_choice = { name: tc.name };
  if (Number.isInteger(body.max_output_tokens) && body.max_output_tokens > 0) req.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') req.temperature = body.temperature;
  if (typeof body.top_p === 'number') req.top_p = body.top_p;
  if (body.reasoning && ['low', 'medium', 'high', 'minimal'].includes(body.reasoning.effort)) req.reasoning = { effort: body.reasoning.effort, budget_tokens: null };
  for (const k of Object.keys(body)) if (!KNOWN.has(k)) req.dropped.push(k);
  return req;
}

// neutral request -> Responses body for an upstream that speaks only the Responses API. dropped:
// collects what the Responses API cannot carry.
function encodeRequest(req, { model, stream, dropped = [] }) {
  const input = [];
  for (const m of req.messages) {
    if (m.role === 'system') input.push({ type: 'message', role: 'developer', content: [{ type: 'input_text', text: m.content.map((p) => p.text || '').join('') }] });
    else if (m.role === 'assistant') {
      const text = m.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
      if (text) input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
      for (const c of m.content.filter((p) => p.type === 'tool_call')) input.push({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments || '{}' });
    } else {
      for (const p of m.content) {
        if (p.type !== 'tool_result') continue;
        const images = (p.parts || []).filter((x) => x.type === 'image');
        const output = images.length ? [...(p.content ? [{ type: 'input_text', text: p.content }] : []),
          ...images.map((x) => ({ type: 'input_image', image_url: x.url || `data:${x.media_type};base64,${x.data}` }))] : p.content;
        if (p.is_error) dropped.push('is_error of a tool result');
        input.push({ type: 'function_call_output', call_id: p.id, output });
      }
      const rest = m.content.filter((p) => p.type === 'text' || p.type === 'image').map((p) => (p.type === 'text' ? { type: 'input_text', text: p.text }
        : { type: 'input_image', image_url: p.url || `data:${p.media_type};base64,${p.data}` }));
      if (rest.length) input.push({ type: 'message', role: 'user', content: rest });
    }
  }
  const body = { model, input, store: false };
  const system = req.system.map((p) => p.text).join('\n\n');
  if (system) body.instructions = system;
  if (req.tools.length) body.tools = req.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters }));
  if (req.tool_choice) body.tool_choice = typeof req.tool_choice === 'string' ? req.tool_choice : { type: 'function', name: req.tool_choice.name };
  if (req.max_tokens) body.max_output_tokens = req.max_tokens;
  if (req.temperature !== null) body.temperature = req.temperature;
  if (req.top_p !== null) body.top_p = req.top_p;
  if (req.reasoning && req.reasoning.effort) body.reasoning = { effort: req.reasoning.effort };
  if (req.parallel_tool_calls !== null && req.tools.length) body.parallel_tool_calls = req.parallel_tool_calls;
  if (req.stop.length) dropped.push('stop (the Responses API has no stop sequences)');
  if (req.user) body.user = req.user;
  if (!input.length) throw new WireError(400, 'the conversation has no content this provider\'s format can carry', { param: 'messages' });
  if (stream) body.stream = true;
  return body;
}

function stopOf(json, content) {
  if (json.status === 'incomplete' && json.incomplete_details && json.incomplete_details.reason === 'max_output_tokens') return 'max_tokens';
  if (json.status === 'incomplete' && json.incomplete_details && json.incomplete_details.reason === 'content_filter') return 'content_filter';
  return content.some((p) => p.type === 'tool_call') ? 'tool_calls' : 'end';
}

function outputIn(output) {
  const content = [];
  for (const item of Array.isArray(output) ? output : []) {
    if (!item) continue;
    if (item.type === 'message') content.push(...partsIn(Array.isArray(item.content) ? item.content : [], 'output'));
    else if (item.type === 'function_call') content.push({ type: 'tool_call', id: String(item.call_id || item.id), name: String(item.name || ''), arguments: argumentsText(item.arguments) });
    else if (item.type === 'reasoning') {
      const text = Array.isArray(item.summary) ? item.summary.map((s) => (s && s.text) || '').join('\n') : '';
      if (text) content.push({ type: 'reasoning', text, signature: null });
    }
  }
  return content;
}

// A Responses response (upstream JSON) -> neutral response.
function decodeResponse(json) {
  const content = outputIn(json.output);
  return { id: String(json.id || newId('resp_')), model: json.model, content, stop_reason: stopOf(json, content), usage: mergeUsage(emptyUsage(), usageIn(json.usage)) };
}

function outputOut(content) {
  const output = [];
  const reasoning = content.filter((p) => p.type === 'reasoning').map((p) => p.text).join('\n');
  if (reasoning) output.push({ type: 'reasoning', id: newId('rs_'), summary: [{ type: 'summary_text', text: reasoning }] });
  const text = content.filter((p) => p.type === 'text').map((p) => p.text).join('');
  if (text) output.push({ type: 'message', id: newId('msg_'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
  for (const c of content.filter((p) => p.type === 'tool_call')) output.push({ type: 'function_call', id: newId('fc_'), call_id: c.id, name: c.name, arguments: c.arguments, status: 'completed' });
  return output;
}

function responseObject({ id, model, createdAt, status, output, usage, stop }) {
  return { id, object: 'response', created_at: createdAt, status, error: null,
    incomplete_details: status === 'incomplete' ? { reason: stop === 'content_filter' ? 'content_filter' : 'max_output_tokens' } : null,
    model, output, parallel_tool_calls: true, store: false, usage: usage ? usageOut(usage) : null };
}

// neutral response -> Responses JSON for the client.
function encodeResponse(resp, { model }) {
  const incomplete = resp.stop_reason === 'max_tokens' || resp.stop_reason === 'content_filter';
  return responseObject({ id: resp.id.startsWith('resp_') ? resp.id : `resp_${resp.id}`, model, createdAt: Math.floor(Date.now() / 1000),
    status: incomplete ? 'incomplete' : 'completed', output: outputOut(resp.content), usage: resp.usage, stop: resp.stop_reason });
}

// Upstream Responses events (parsed `data:` JSON, each with `type`) -> neutral events.
class StreamDecoder {
  constructor() {
    this.started = false;
    this.blocks = new Map();  // `${output_index}` -> neutral index
    this.next = 0;
    this.open = new Set();
    this.usage = emptyUsage();
    this.done = false;
    this.argued = new Set();   // tool blocks whose arguments were sent
    this.texted = new Set();   // message blocks whose text was sent
    this.complete = false;     // response.completed / incomplete seen
  }

  blockFor(outputIndex, block, out) {
    const key = String(outputIndex);
    if (this.blocks.has(key)) return this.blocks.get(key);
    const index = this.next++;
    this.blocks.set(key, index);
    this.open.add(index);
    out.push({ type: 'block_start', index, block });
    return index;
  }

  push(data) {
    const out = [];
    if (!data || typeof data !== 'object') return out;
    if (!this.started && data.type !== 'error') {
      this.started = true;
      const r = data.response || {};
      out.push({ type: 'start', id: String(r.id || newId('resp_')), model: r.model, usage: emptyUsage() });
    }
    switch (data.type) {
      case 'response.output_item.added': {
        const item = data.item || {};
        if (item.type === 'function_call') this.blockFor(data.output_index, { type: 'tool_call', id: String(item.call_id || item.id), name: String(item.name || '') }, out);
        else if (item.type === 'reasoning') this.blockFor(data.output_index, { type: 'reasoning' }, out);
        break;
      }
      case 'response.output_text.delta': {
        const index = this.blockFor(data.output_index, { type: 'text' }, out);
        this.texted.add(index);
        out.push({ type: 'delta', index, text: String(data.delta ?? '') });
        break;
      }
      case 'response.reasoning_summary_text.delta':
        out.push({ type: 'delta', index: this.blockFor(data.output_index, { type: 'reasoning' }, out), text: String(data.delta ?? '') });
        break;
      case 'response.function_call_arguments.delta': {
        const index = this.blocks.get(String(data.output_index));
        if (index !== undefined && data.delta) {
          this.argued.add(index);
          out.push({ type: 'delta', index, arguments: String(data.delta) });
        }
        break;
      }
      case 'response.function_call_arguments.done':
      case 'response.output_item.done': {
        const item = data.item || {};
        if (item.type === 'message' || item.type === 'reasoning') this.blockFor(data.output_index, { type: item.type === 'message' ? 'text' : 'reasoning' }, out);
        if (item.type === 'function_call') this.blockFor(data.output_index, { type: 'tool_call', id: String(item.call_id || item.id), name: String(item.name || '') }, out);
        const index = this.blocks.get(String(data.output_index));
        if (index === undefined) break;
        if (item.type === 'message' && !this.texted.has(index)) {
          const text = outputIn([item]).filter((p) => p.type === 'text').map((p) => p.text).join('');
          if (text) out.push({ type: 'delta', index, text });
        }
        // Arguments that came only whole, in the done events (no deltas): sent as one delta.
        const whole = data.type === 'response.function_call_arguments.done' ? data.arguments : item.type === 'function_call' ? item.arguments : undefined;
        if (typeof whole === 'string' && whole && !this.argued.has(index)) {
          this.argued.add(index);
          out.push({ type: 'delta', index, arguments: whole });
        }
        if (data.type === 'response.output_item.done' && this.open.delete(index)) out.push({ type: 'block_stop', index });
        break;
      }
      case 'response.completed':
      case 'response.incomplete': {
        const r = data.response || {};
        mergeUsage(this.usage, usageIn(r.usage));
        this.stop = stopOf(r, outputIn(r.output));
        this.complete = true;
        return this.end(out);
      }
      case 'response.failed':
      case 'error': {
        const e = (data.response && data.response.error) || data;
        out.push({ type: 'error', error: { status: 502, type: 'server_error', code: e.code || null, message: String(e.message || 'upstream error'), param: e.param || null } });
        break;
      }
      default:
        break;
    }
    return out;
  }

  end(out = []) {
    if (this.done) return out;
    this.done = true;
    if (!this.started) out.push({ type: 'start', id: newId('resp_'), model: null, usage: emptyUsage() });
    for (const i of this.open) out.push({ type: 'block_stop', index: i });
    this.open.clear();
    out.push({ type: 'finish', stop_reason: this.stop || 'end', usage: { ...this.usage } });
    return out;
  }
}

// Neutral events -> Responses SSE for the client (the events Codex CLI reads: response.created,
// output_item.added/done, output_text.delta, function_call_arguments.delta/done, and
// response.completed with usage, which is the terminal event).
class StreamEncoder {
  constructor({ model }) {
    this.model = model;
    this.id = newId('resp_');
    this.createdAt = Math.floor(Date.now() / 1000);
    this.seq = 0;
    this.items = new Map();  // neutral index -> { output_index, item, text }
    this.output = [];        // final items in order
    this.started = false;
  }

  ev(type, payload) {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`;
  }

  start() {
    if (this.started) return '';
    this.started = true;
    const response = responseObject({ id: this.id, model: this.model, createdAt: this.createdAt, status: 'in_progress', output: [], usage: null });
    return this.ev('response.created', { response }) + this.ev('response.in_progress', { response });
  }

  encode(ev) {
    let text = '';
    if (ev.type === 'start') text = this.start();
    else if (ev.type === 'block_start') {
      text = this.start();
      const output_index = this.output.length;
      let item;
      if (ev.block.type === 'tool_call') item = { type: 'function_call', id: newId('fc_'), call_id: ev.block.id, name: ev.block.name, arguments: '', status: 'in_progress' };
      else if (ev.block.type === 'reasoning') item = { type: 'reasoning', id: newId('rs_'), summary: [] };
      else item = { type: 'message', id: newId('msg_'), status: 'in_progress', role: 'assistant', content: [] };
      const entry = { output_index, item, text: '', kind: ev.block.type };
      this.items.set(ev.index, entry);
      this.output.push(item);
      text += this.ev('response.output_item.added', { output_index, item });
      if (entry.kind === 'text') text += this.ev('response.content_part.added', { item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    } else if (ev.type === 'delta') {
      const e = this.items.get(ev.index);
      if (!e) return { text: '', terminal: '' };
      if (e.kind === 'tool_call' && ev.arguments) {
        e.item.arguments += ev.arguments;
        text = this.ev('response.function_call_arguments.delta', { item_id: e.item.id, output_index: e.output_index, delta: ev.arguments });
      } else if (e.kind === 'text' && ev.text) {
        e.text += ev.text;
        text = this.ev('response.output_text.delta', { item_id: e.item.id, output_index: e.output_index, content_index: 0, delta: ev.text });
      } else if (e.kind === 'reasoning' && ev.text) {
        if (!e.partOpen) {
          e.partOpen = true;
          text = this.ev('response.reasoning_summary_part.added', { item_id: e.item.id, output_index: e.output_index, summary_index: 0, part: { type: 'summary_text', text: '' } });
        }
        e.text += ev.text;
        text += this.ev('response.reasoning_summary_text.delta', { item_id: e.item.id, output_index: e.output_index, summary_index: 0, delta: ev.text });
      }
    } else if (ev.type === 'block_stop') {
      const e = this.items.get(ev.index);
      if (e && !e.closed) text = this.close(e);
    } else if (ev.type === 'finish') {
      text = this.start();
      for (const e of this.items.values()) if (!e.closed) text += this.close(e);
      const incomplete = ev.stop_reason === 'max_tokens' || ev.stop_reason === 'content_filter';
      const response = responseObject({ id: this.id, model: this.model, createdAt: this.createdAt, status: incomplete ? 'incomplete' : 'completed',
        output: this.output, usage: ev.usage, stop: ev.stop_reason });
      return { text, terminal: this.ev(incomplete ? 'response.incomplete' : 'response.completed', { response }) };
    } else if (ev.type === 'error') {
      text = this.start() + this.failed(ev.error);
    }
    return { text, terminal: '' };
  }

  close(e) {
    e.closed = true;
    const { item, output_index } = e;
    let text = '';
    if (e.kind === 'text') {
      item.status = 'completed';
      item.content = [{ type: 'output_text', text: e.text, annotations: [] }];
      text += this.ev('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text: e.text });
      text += this.ev('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part: item.content[0] });
    } else if (e.kind === 'tool_call') {
      item.status = 'completed';
      text += this.ev('response.function_call_arguments.done', { item_id: item.id, output_index, arguments: item.arguments });
    } else if (e.kind === 'reasoning') {
      item.summary = e.text ? [{ type: 'summary_text', text: e.text }] : [];
      if (e.partOpen) {
        text += this.ev('response.reasoning_summary_text.done', { item_id: item.id, output_index, summary_index: 0, text: e.text });
        text += this.ev('response.reasoning_summary_part.done', { item_id: item.id, output_index, summary_index: 0, part: item.summary[0] });
      }
    }
    return text + this.ev('response.output_item.done', { output_index, item });
  }

  failed(err) {
    const response = responseObject({ id: this.id, model: this.model, createdAt: this.createdAt, status: 'failed', output: this.output, usage: null });
    response.error = { code: err.code || err.type || 'server_error', message: err.message };
    return this.ev('response.failed', { response });
  }
}

// Errors before a stream: OpenAI's shape (the Responses API uses it).
function encodeError(err) {
  return { error: { message: err.message, type: err.type || (err.status >= 500 ? 'server_error' : 'invalid_request_error'), code: err.code ?? null, param: err.param ?? null } };
}

// Mid-stream: response.failed. encoder: the translating stream's own (it knows the response id
// and whether response.created went out); without one (a pass-through stream, whose created event
// the provider sent) only the failed event is written.
function encodeStreamError(err, encoder = null) {
  const e = encoder || Object.assign(new StreamEncoder({ model: null }), { started: true });
  return e.start() + e.failed(err);
}

module.exports = { previousResponseRefused, format: 'responses', decodeRequest, encodeRequest, decodeResponse, encodeResponse, StreamDecoder, StreamEncoder, encodeError, encodeStreamError, usageIn };
