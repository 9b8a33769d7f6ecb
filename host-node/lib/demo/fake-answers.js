// What the simulated providers answer, in each wire format they may speak (Chat Completions,
// Messages, Responses), whole or streamed. With `tools` in the request and no tool result yet,
// the answer is a fixed tool-use turn (the first tool, arguments {"command": "echo hi"} or
// {"path": "README.md"}); once the conversation holds a tool result, the answer quotes it. So a
// newcomer can watch Claude Code or Codex CLI call a tool through a provider of another format.
'use strict';

// The last tool result in a request of any format, or null.
function lastToolResult(body) {
  const items = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : [];
  const last = items[items.length - 1];
  if (!last) return null;
  if (last.role === 'tool') return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  if (last.type === 'function_call_output') return typeof last.output === 'string' ? last.output : JSON.stringify(last.output);
  if (last.role === 'user' && Array.isArray(last.content)) {
    const r = last.content.find((b) => b && b.type === 'tool_result');
    if (r) return typeof r.content === 'string' ? r.content : (Array.isArray(r.content) ? r.content.map((c) => c.text || '').join('') : '');
  }
  return null;
}

// A shell-like tool when the client offers one (Claude Code's Bash, Codex CLI's shell or
// exec_command), else the first.
const SHELLS = ['Bash', 'shell', 'exec_command', 'local_shell'];
const toolName = (t) => t && (t.name || (t.function && t.function.name));

function firstTool(body) {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const t = tools.find((x) => SHELLS.includes(toolName(x))) || tools[0];
  if (!t) return null;
  const name = t.name || (t.function && t.function.name);
  if (!name) return null;
  const schema = t.input_schema || t.parameters || (t.function && t.function.parameters) || {};
  const props = schema.properties || {};
  const args = 'command' in props ? { command: props.command.type === 'array' ? ['echo', 'hi'] : 'echo hi' }
    : 'cmd' in props ? { cmd: 'echo hi' } : 'path' in props ? { path: 'README.md' } : {};
  if ('description' in props) args.description = 'Print hi';
  return { name, arguments: JSON.stringify(args) };
}

// The turn to answer: { text, tool: {id, name, arguments} | null }.
function turnFor(body, name) {
  const result = lastToolResult(body);
  if (result !== null) return { text: `The tool returned: ${String(result).slice(0, 200)}`, tool: null };
  const tool = firstTool(body);
  if (tool) return { text: '', tool: { id: `call_fake_${Math.random().toString(36).slice(2, 10)}`, ...tool } };
  return { text: `Hello from ${name}.`, tool: null };
}

function whole(dialect, body, turn, usage, now) {
  if (dialect === 'anthropic') {
    const content = [];
    if (turn.text) content.push({ type: 'text', text: turn.text });
    if (turn.tool) content.push({ type: 'tool_use', id: turn.tool.id.replace('call_', 'toolu_'), name: turn.tool.name, input: JSON.parse(turn.tool.arguments) });
    return { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model, content, stop_reason: turn.tool ? 'tool_use' : 'end_turn', stop_sequence: null,
      usage: { input_tokens: usage.in, output_tokens: usage.out } };
  }
  if (dialect === 'responses') {
    const output = [];
    if (turn.text) output.push({ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: turn.text, annotations: [] }] });
    if (turn.tool) output.push({ type: 'function_call', id: 'fc_fake', call_id: turn.tool.id, name: turn.tool.name, arguments: turn.tool.arguments, status: 'completed' });
    return { id: 'resp_fake', object: 'response', created_at: Math.floor(now / 1000), status: 'completed', model: body.model, output,
      usage: { input_tokens: usage.in, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.out, total_tokens: usage.in + usage.out } };
  }
  const message = { role: 'assistant', content: turn.text || null };
  if (turn.tool) message.tool_calls = [{ id: turn.tool.id, type: 'function', function: { name: turn.tool.name, arguments: turn.tool.arguments } }];
  const u = { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out };
  if (usage.cost !== undefined) u.cost = usage.cost;
  return { id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(now / 1000), model: body.model,
    choices: [{ index: 0, message, finish_reason: turn.tool ? 'tool_calls' : 'stop' }], usage: u };
}

// The events of a streamed answer, as SSE text pieces (the caller writes them with small delays).
// hooks.afterFirst(): returns true to stop after the first content piece (failure modes).
function streamPieces(dialect, body, turn, usage) {
  const words = turn.text ? turn.text.split(' ').map((w, i) => (i ? ' ' : '') + w) : [];
  const out = [];
  if (dialect === 'anthropic') {
    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    out.push(ev('message_start', { message: { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, usage: { input_tokens: usage.in, output_tokens: 1 } } }));
    let index = 0;
    if (words.length) {
      out.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const w of words) out.push({ content: ev('content_block_delta', { index, delta: { type: 'text_delta', text: w } }) });
      out.push(ev('content_block_stop', { index }));
      index++;
    }
    if (turn.tool) {
      out.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: turn.tool.id.replace('call_', 'toolu_'), name: turn.tool.name, input: {} } }));
      const a = turn.tool.arguments;
      for (const piece of [a.slice(0, 5), a.slice(5)]) if (piece) out.push({ content: ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }) });
      out.push(ev('content_block_stop', { index }));
    }
    out.push(ev('message_delta', { delta: { stop_reason: turn.tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.out } }));
    out.push(ev('message_stop', {}));
    return out;
  }
  if (dialect === 'responses') {
    let seq = 0;
    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
    const response = { id: 'resp_fake', object: 'response', status: 'in_progress', model: body.model, output: [] };
    out.push(ev('response.created', { response }));
    const output = [];
    if (words.length) {
      const item = { type: 'message', id: 'msg_fake', status: 'in_progress', role: 'assistant', content: [] };
      out.push(ev('response.output_item.added', { output_index: output.length, item }));
      for (const w of words) out.push({ content: ev('response.output_text.delta', { item_id: 'msg_fake', output_index: output.length, content_index: 0, delta: w }) });
      const done = { ...item, status: 'completed', content: [{ type: 'output_text', text: turn.text, annotations: [] }] };
      out.push(ev('response.output_item.done', { output_index: output.length, item: done }));
      output.push(done);
    }
    if (turn.tool) {
      const item = { type: 'function_call', id: 'fc_fake', call_id: turn.tool.id, name: turn.tool.name, arguments: '', status: 'in_progress' };
      out.push(ev('response.output_item.added', { output_index: output.length, item }));
      out.push({ content: ev('response.function_call_arguments.delta', { item_id: 'fc_fake', output_index: output.length, delta: turn.tool.arguments }) });
      const done = { ...item, arguments: turn.tool.arguments, status: 'completed' };
      out.push(ev('response.output_item.done', { output_index: output.length, item: done }));
      output.push(done);
    }
    out.push(ev('response.completed', { response: { ...response, status: 'completed', output,
      usage: { input_tokens: usage.in, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.out, total_tokens: usage.in + usage.out } } }));
    return out;
  }
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: body.model };
  const chunk = (delta, finish = null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  words.forEach((w, i) => out.push({ content: chunk({ ...(i ? {} : { role: 'assistant' }), content: w }) }));
  if (turn.tool) {
    out.push({ content: chunk({ ...(words.length ? {} : { role: 'assistant' }), tool_calls: [{ index: 0, id: turn.tool.id, type: 'function', function: { name: turn.tool.name, arguments: '' } }] }) });
    const a = turn.tool.arguments;
    for (const piece of [a.slice(0, 5), a.slice(5)]) if (piece) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
  }
  out.push(chunk({}, turn.tool ? 'tool_calls' : 'stop'));
  if (body.stream_options && body.stream_options.include_usage) {
    const u = { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out };
    if (usage.cost !== undefined) u.cost = usage.cost;
    out.push(`data: ${JSON.stringify({ ...base, choices: [], usage: u })}\n\n`);
  }
  out.push('data: [DONE]\n\n');
  return out;
}

module.exports = { turnFor, whole, streamPieces };
