// The wire codecs (host-node/lib/wire): fidelity across translation, one assertion per feature,
// for each pair of formats through the neutral form. Inputs are what real clients send (Claude
// Code's system turns and beta-only fields, Codex CLI's developer messages and function_call
// items), not only what the docs show.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { CODECS, StreamTranslator } = require('../lib/wire');
const chat = CODECS.chat, messages = CODECS.messages, responses = CODECS.responses;

const TOOL_SCHEMA = { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] };

test('Messages (Claude Code) -> Chat: system, in-place system turns, tools, tool use and results, images, sampling, beta fields dropped', () => {
  const body = {
    model: 'claude-sonnet-4-5', max_tokens: 1000, temperature: 0.3, top_p: 0.9, stop_sequences: ['END'], stream: true,
    system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'text', text: 'running' },
        { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a.txt' }] }, { type: 'text', text: 'and?' }] },
      { role: 'system', content: 'Reminder: be brief.' },
    ],
    tools: [{ name: 'Bash', description: 'run', input_schema: TOOL_SCHEMA }, { type: 'web_search_20250305', name: 'web_search' }],
    tool_choice: { type: 'auto' }, metadata: { user_id: 'u1' },
    thinking: { type: 'adaptive' }, context_management: { edits: [] }, output_config: { effort: 'high' },
  };
  const req = messages.decodeRequest(body);
  assert.deepEqual(req.dropped.sort(), ['context_management', 'metadata.user_id', 'output_config', 'thinking.adaptive', 'tools[web_search_20250305]'].sort());
  const out = chat.encodeRequest(req, { model: 'deepseek-chat', stream: true });
  assert.deepEqual(out.messages, [
    { role: 'system', content: 'You are Claude Code.' },
    { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    { role: 'assistant', content: 'running', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_1', content: 'a.txt' },
    { role: 'user', content: 'and?' },
    { role: 'system', content: 'Reminder: be brief.' },
  ]);
  assert.deepEqual(out.tools, [{ type: 'function', function: { name: 'Bash', description: 'run', parameters: TOOL_SCHEMA } }]);
  assert.equal(out.tool_choice, 'auto');
  assert.deepEqual([out.max_tokens, out.temperature, out.top_p, out.stop, out.user, out.stream], [1000, 0.3, 0.9, ['END'], undefined, true],
    'metadata.user_id (Claude Code\'s device and session ids) stays with Anthropic');
  assert.deepEqual(out.stream_options, { include_usage: true });
  assert.equal(out.context_management, undefined);
  assert.equal(out.thinking, undefined);
});

test('Chat -> Messages: system first, tool messages join a user turn, arguments become input, max_tokens defaulted, temperature clamped', () => {
  const req = chat.decodeRequest({ model: 'm', temperature: 1.7, stop: 'X', tool_choice: 'required', messages: [
    { role: 'system', content: 'sys' }, { role: 'user', content: 'hi' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }, { id: 'call_2', type: 'function', function: { name: 'g', arguments: 'not json' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'one' }, { role: 'tool', tool_call_id: 'call_2', content: 'two' }, { role: 'user', content: 'next' },
  ], tools: [{ type: 'function', function: { name: 'f', parameters: TOOL_SCHEMA } }] });
  const out = messages.encodeRequest(req, { model: 'claude', stream: false });
  assert.equal(out.system, 'sys');
  assert.equal(out.max_tokens, 8192);
  assert.equal(out.temperature, 1);
  assert.deepEqual(out.stop_sequences, ['X']);
  assert.deepEqual(out.tool_choice, { type: 'any' });
  assert.deepEqual(out.messages, [
    { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } }, { type: 'tool_use', id: 'call_2', name: 'g', input: { _raw: 'not json' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'one' }, { type: 'tool_result', tool_use_id: 'call_2', content: 'two' }, { type: 'text', text: 'next' }] },
  ]);
  assert.deepEqual(out.tools, [{ name: 'f', description: '', input_schema: TOOL_SCHEMA }]);
});

test('Responses (Codex CLI) -> Chat and -> Messages: developer messages, function calls and outputs, reasoning effort', () => {
  const body = { model: 'gpt-5-codex', instructions: 'You are Codex.', store: false, stream: true, reasoning: { effort: 'high', summary: 'auto' },
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'sandbox: read-only' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] },
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'I should run ls' }], encrypted_content: 'xxx' },
      { type: 'function_call', call_id: 'call_9', name: 'shell', arguments: '{"command":["ls"]}' },
      { type: 'function_call_output', call_id: 'call_9', output: 'a.txt' },
    ],
    tools: [{ type: 'function', name: 'shell', description: 'run', parameters: TOOL_SCHEMA, strict: false }, { type: 'custom', name: 'apply_patch' }],
    tool_choice: 'auto', parallel_tool_calls: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'k' };
  const req = responses.decodeRequest(body);
  assert.deepEqual(req.system.map((p) => p.text), ['You are Codex.', 'sandbox: read-only']);
  assert.deepEqual(req.dropped, ['tools[custom:apply_patch]']);
  const c = chat.encodeRequest(req, { model: 'deepseek-chat', stream: true });
  assert.deepEqual(c.messages, [
    { role: 'system', content: 'You are Codex.\n\nsandbox: read-only' },
    { role: 'user', content: 'list files' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'shell', arguments: '{"command":["ls"]}' } }] },
    { role: 'tool', tool_call_id: 'call_9', content: 'a.txt' },
  ]);
  assert.equal(c.reasoning_effort, 'high');
  const m = messages.encodeRequest(req, { model: 'claude', stream: false });
  assert.deepEqual(m.messages[1], { role: 'assistant', content: [{ type: 'tool_use', id: 'call_9', name: 'shell', input: { command: ['ls'] } }] });
  assert.deepEqual(m.thinking, { type: 'enabled', budget_tokens: 16384 }, 'reasoning effort high -> a thinking budget');
  assert.ok(m.max_tokens > 16384);
  assert.ok(!JSON.stringify(m.messages).includes('I should run ls'), 'reasoning summaries without an Anthropic signature are not sent back');
  assert.throws(() => responses.decodeRequest({ model: 'm', input: 'hi', previous_response_id: 'resp_1' }), (err) => err.status === 400 && err.param === 'previous_response_id');
});

test('Chat/Messages -> Responses (a provider that speaks only the Responses API)', () => {
  const req = messages.decodeRequest({ model: 'm', max_tokens: 50, system: 'sys', messages: [
    { role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'done', is_error: false }] }] });
  const r = responses.encodeRequest(req, { model: 'gpt-5', stream: true });
  assert.deepEqual(r, { model: 'gpt-5', store: false, instructions: 'sys', max_output_tokens: 50, stream: true, input: [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    { type: 'function_call', call_id: 't1', name: 'f', arguments: '{"a":1}' },
    { type: 'function_call_output', call_id: 't1', output: 'done' },
  ] });
});

test('whole responses: stop reasons, tool calls, reasoning and cached usage, each way', () => {
  const fromAnthropic = messages.decodeResponse({ id: 'msg_1', model: 'claude', stop_reason: 'tool_use', content: [
    { type: 'thinking', thinking: 'why', signature: 's' }, { type: 'text', text: 'ok' }, { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }],
  usage: { input_tokens: 7, cache_read_input_tokens: 10000, cache_creation_input_tokens: 20, output_tokens: 5 } });
  assert.deepEqual(fromAnthropic.usage, { input: 10027, output: 5, cached_read: 10000, cache_write: 20 });
  const c = chat.encodeResponse(fromAnthropic, { model: 'asked' });
  assert.equal(c.choices[0].finish_reason, 'tool_calls');
  assert.equal(c.choices[0].message.reasoning_content, 'why');
  assert.deepEqual(c.choices[0].message.tool_calls, [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
  assert.deepEqual(c.usage, { prompt_tokens: 10027, completion_tokens: 5, total_tokens: 10032, prompt_tokens_details: { cached_tokens: 10000 } });  // cache hits only, as OpenAI counts them
  assert.equal(c.model, 'asked');
  const fromChat = chat.decodeResponse({ id: 'c1', choices: [{ message: { content: 'cut' }, finish_reason: 'length' }],
    usage: { prompt_tokens: 100, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 60 } } });
  const m = messages.encodeResponse(fromChat, { model: 'claude' });
  assert.equal(m.stop_reason, 'max_tokens');
  assert.deepEqual(m.usage, { input_tokens: 40, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 60 });
  const r = responses.encodeResponse(fromChat, { model: 'gpt' });
  assert.equal(r.status, 'incomplete');
  assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  assert.deepEqual(r.usage.input_tokens_details, { cached_tokens: 60 });
  const back = responses.decodeResponse(r);
  assert.equal(back.stop_reason, 'max_tokens');
  assert.equal(back.content[0].text, 'cut');
});

// Upstream SSE text for a turn with reasoning, text and one tool call whose arguments arrive in
// pieces, in each format.
const STREAMS = {
  messages: [
    ['message_start', { message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 3, cache_read_input_tokens: 100, output_tokens: 1 } } }],
    ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }],
    ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'lo' } }],
    ['content_block_stop', { index: 0 }],
    ['content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} } }],
    ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a"' } }],
    ['content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: ':1}' } }],
    ['content_block_stop', { index: 1 }],
    ['message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }],
    ['message_stop', {}],
  ].map(([type, d]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...d })}\n\n`).join(''),
  chat: [
    { choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] },
    { choices: [{ index: 0, delta: { content: 'lo' } }] },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] } }] },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] } }] },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] },
    { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { choices: [], usage: { prompt_tokens: 103, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 100 } } },
  ].map((d) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', ...d })}\n\n`).join('') + 'data: [DONE]\n\n',
  responses: [
    ['response.created', { response: { id: 'resp_1', model: 'gpt' } }],
    ['response.output_item.added', { output_index: 0, item: { type: 'message', id: 'm1', role: 'assistant', content: [] } }],
    ['response.output_text.delta', { output_index: 0, item_id: 'm1', content_index: 0, delta: 'Hel' }],
    ['response.output_text.delta', { output_index: 0, item_id: 'm1', content_index: 0, delta: 'lo' }],
    ['response.output_item.done', { output_index: 0, item: { type: 'message', id: 'm1' } }],
    ['response.output_item.added', { output_index: 1, item: { type: 'function_call', id: 'fc1', call_id: 'call_1', name: 'f', arguments: '' } }],
    ['response.function_call_arguments.delta', { output_index: 1, item_id: 'fc1', delta: '{"a"' }],
    ['response.function_call_arguments.delta', { output_index: 1, item_id: 'fc1', delta: ':1}' }],
    ['response.output_item.done', { output_index: 1, item: { type: 'function_call', id: 'fc1', call_id: 'call_1', name: 'f', arguments: '{"a":1}' } }],
    ['response.completed', { response: { id: 'resp_1', status: 'completed', output: [{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' }],
      usage: { input_tokens: 103, input_tokens_details: { cached_tokens: 100 }, output_tokens: 9 } } }],
  ].map(([type, d]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...d })}\n\n`).join(''),
};

// What a client of each format reads back from a translated stream: text, tool calls, stop, usage.
function readBack(format, text) {
  const events = text.split(/\n\n/).filter(Boolean).map((e) => e.split('\n').find((l) => l.startsWith('data: ')).slice(6));
  const out = { text: '', calls: {}, stop: null, usage: null, terminal: false };
  for (const d of events) {
    if (d === '[DONE]') {
      out.terminal = true;
      continue;
    }
    const o = JSON.parse(d);
    if (format === 'chat') {
      const c = o.choices && o.choices[0];
      if (c && c.delta.content) out.text += c.delta.content;
      for (const t of (c && c.delta.tool_calls) || []) {
        out.calls[t.index] = out.calls[t.index] || { name: '', arguments: '' };
        if (t.function.name) out.calls[t.index].name = t.function.name;
        out.calls[t.index].arguments += t.function.arguments || '';
      }
      if (c && c.finish_reason) out.stop = c.finish_reason;
      if (o.usage) out.usage = [o.usage.prompt_tokens, o.usage.prompt_tokens_details.cached_tokens, o.usage.completion_tokens];
    } else if (format === 'messages') {
      if (o.type === 'content_block_start' && o.content_block.type === 'tool_use') out.calls[o.index] = { name: o.content_block.name, arguments: '' };
      if (o.type === 'content_block_delta' && o.delta.type === 'text_delta') out.text += o.delta.text;
      if (o.type === 'content_block_delta' && o.delta.type === 'input_json_delta') out.calls[o.index].arguments += o.delta.partial_json;
      if (o.type === 'message_delta') {
        out.stop = o.delta.stop_reason;
        out.usage = [o.usage.input_tokens + o.usage.cache_read_input_tokens, o.usage.cache_read_input_tokens, o.usage.output_tokens];
      }
      if (o.type === 'message_stop') out.terminal = true;
    } else {
      if (o.type === 'response.output_text.delta') out.text += o.delta;
      if (o.type === 'response.output_item.done' && o.item.type === 'function_call') out.calls[o.output_index] = { name: o.item.name, arguments: o.item.arguments };
      if (o.type === 'response.completed') {
        out.terminal = true;
        out.stop = o.response.output.some((i) => i.type === 'function_call') ? 'tool' : 'end';
        out.usage = [o.response.usage.input_tokens, o.response.usage.input_tokens_details.cached_tokens, o.response.usage.output_tokens];
      }
    }
  }
  return out;
}

const STOP = { chat: 'tool_calls', messages: 'tool_use', responses: 'tool' };

for (const from of ['chat', 'messages', 'responses']) {
  for (const to of ['chat', 'messages', 'responses']) {
    if (from === to) continue;
    test(`streamed ${from} -> ${to}: text, tool-call argument deltas, stop reason, cached usage; any chunking`, () => {
      for (const size of [1, 7, 64, 100000]) {
        const t = new StreamTranslator({ from, to, model: 'asked', includeUsage: true });
        const src = STREAMS[from];
        let out = '';
        for (let i = 0; i < src.length; i += size) out += t.push(src.slice(i, i + size));
        out += t.end();
        const got = readBack(to, out + t.terminal);
        assert.equal(got.text, 'Hello', `${size}`);
        assert.deepEqual(Object.values(got.calls), [{ name: 'f', arguments: '{"a":1}' }]);
        assert.equal(got.stop, STOP[to]);
        assert.deepEqual(got.usage, [103, 100, 9]);
        assert.ok(got.terminal, 'the terminal event is produced (and held apart)');
        assert.ok(!readBack(to, out).terminal, 'not inside the streamed text');
        assert.deepEqual([t.usage.tokens_in, t.usage.tokens_cached, t.usage.tokens_out], [103, 100, 9], 'ledger usage from the provider\'s own events');
      }
    });
  }
}

test('errors in each client format, with the upstream code and param kept', () => {
  const e = { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages', message: 'too long' };
  assert.deepEqual(chat.encodeError(e), { error: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } });
  assert.deepEqual(messages.encodeError(e), { type: 'error', error: { type: 'invalid_request_error', message: 'too long' } });
  assert.equal(messages.encodeError({ ...e, status: 401, type: 'authentication_error' }).error.type, 'authentication_error');
  assert.equal(messages.encodeError({ ...e, status: 404, type: 'not_found_error' }).error.type, 'not_found_error');
  assert.equal(messages.encodeError({ ...e, status: 429, type: 'rate_limit_error' }).error.type, 'rate_limit_error');
  assert.equal(messages.encodeError({ ...e, status: 529, type: 'overloaded_error' }).error.type, 'overloaded_error');
  assert.match(messages.encodeStreamError({ status: 502, type: 'server_error', message: 'x' }), /^event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"x"\}\}\n\n$/);
  assert.match(responses.encodeStreamError({ status: 502, type: 'server_error', code: 'upstream_error', message: 'x' }), /event: response\.failed\n/);
});

test('GET /v1/models lists wildcard providers by the concrete names the catalog gives them', () => {
  const { listModels } = require('../lib/models-endpoint');
  const providers = [{ name: 'claude', models: ['claude-*'] }, { name: 'ds', models: ['deepseek-chat', 'deepseek-reasoner'] }, { name: 'any', models: ['*'] }];
  const catalog = [{ provider_id: 'claude', models: ['claude-sonnet-4-5', 'claude-opus-4-1', 'gpt-5'] }, { provider_id: 'any', models: ['x-1', 'claude-*'] }];
  assert.deepEqual(listModels(providers, () => catalog), [
    { id: 'auto', owner: 'quotagate' }, { id: 'claude-opus-4-1', owner: 'claude' }, { id: 'claude-sonnet-4-5', owner: 'claude' },
    { id: 'deepseek-chat', owner: 'ds' }, { id: 'deepseek-reasoner', owner: 'ds' }, { id: 'x-1', owner: 'any' }]);
});

test('what a format cannot carry is named; parallel-call settings, tool-result images, odd tool ids, empty last turns', () => {
  // Anthropic tool_result with an image -> Chat: text kept, the image named as dropped.
  const req = messages.decodeRequest({ model: 'm', max_tokens: 5, tool_choice: { type: 'auto', disable_parallel_tool_use: true }, tools: [{ name: 'f', input_schema: TOOL_SCHEMA }],
    messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'functions.bash:0', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'functions.bash:0', is_error: true, content: [{ type: 'text', text: 'line1' }, { type: 'text', text: 'line2' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] }, { type: 'document', source: {} }] }] });
  assert.ok(req.dropped.includes('content[document]'));
  const dropped = [];
  const c = chat.encodeRequest(req, { model: 'x', stream: false, dropped });
  assert.equal(c.parallel_tool_calls, false);
  assert.deepEqual(c.messages[2], { role: 'tool', tool_call_id: 'functions.bash:0', content: 'line1\nline2' });
  assert.deepEqual(dropped, ['an image in a tool result (Chat tool messages carry text)', 'is_error of a tool result']);
  // -> Responses: the image travels in the function_call_output.
  const r = responses.encodeRequest(req, { model: 'x', stream: false, dropped: [] });
  assert.deepEqual(r.input[2].output, [{ type: 'input_text', text: 'line1\nline2' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }]);
  assert.equal(r.parallel_tool_calls, false);
  // Chat -> Anthropic: ids outside [a-zA-Z0-9_-] are mapped alike in tool_use and tool_result;
  // parallel_tool_calls false -> disable_parallel_tool_use; an empty last user turn is kept.
  const back = chat.decodeRequest({ model: 'm', parallel_tool_calls: false, tools: [{ type: 'function', function: { name: 'f', parameters: TOOL_SCHEMA } }], messages: [
    { role: 'user', content: 'a' }, { role: 'assistant', content: null, tool_calls: [{ id: 'functions.bash:0', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'functions.bash:0', content: 'ok' }, { role: 'assistant', content: 'b' }, { role: 'user', content: '' }] });
  const d2 = [];
  const a = messages.encodeRequest(back, { model: 'c', stream: false, dropped: d2 });
  assert.equal(a.messages[1].content[0].id, 'functions_bash_0');
  assert.equal(a.messages[2].content[0].tool_use_id, 'functions_bash_0');
  assert.deepEqual(a.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  assert.deepEqual(a.messages[a.messages.length - 1], { role: 'user', content: [{ type: 'text', text: '(empty message)' }] }, 'never a prefill by accident');
  const audio = chat.decodeRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] });
  assert.deepEqual(audio.dropped, ['content[input_audio]']);
  assert.throws(() => messages.encodeRequest(chat.decodeRequest({ model: 'm', messages: [] }), { model: 'c', stream: false }), (err) => err.status === 400);
  assert.throws(() => responses.encodeRequest(chat.decodeRequest({ model: 'm', messages: [{ role: 'system', content: 's' }] }), { model: 'c', stream: false }), (err) => err.status === 400);
});

test('streams: interleaved parallel tool calls, arguments only in done events or in the start event, tools without arguments, errors and cut-offs are terminal', () => {
  const sse = (objs) => objs.map((d) => `data: ${JSON.stringify(d)}\n\n`).join('');
  const run = (from, to, text) => {
    const t = new StreamTranslator({ from, to, model: 'm' });
    const out = t.push(text) + t.end();
    return { out, t };
  };
  // Chat, two calls announced, then their arguments interleaved.
  const chatText = sse([
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '' } }, { index: 1, id: 'b', function: { name: 'g', arguments: '' } }] } }] },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] } }] },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{"y":2}' } }] } }] },
    { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }]) + 'data: [DONE]\n\n';
  const m = run('chat', 'messages', chatText);
  const got = m.out.split('\n\n').filter(Boolean).map((e) => JSON.parse(e.split('\n')[1].slice(6)));
  const args = {};
  for (const e of got) if (e.type === 'content_block_delta') args[e.index] = (args[e.index] || '') + e.delta.partial_json;
  assert.deepEqual(args, { 0: '{"x":1}', 1: '{"y":2}' });
  assert.equal(got.find((e) => e.type === 'message_delta').delta.stop_reason, 'tool_use', 'tool calls with finish_reason stop are tool calls');
  // Responses, arguments only in the done events; a tool without arguments gets "{}".
  const ev = (type, d) => `event: ${type}\ndata: ${JSON.stringify({ type, ...d })}\n\n`;
  const respText = ev('response.created', { response: { id: 'r' } }) +
    ev('response.output_item.added', { output_index: 0, item: { type: 'function_call', call_id: 'c1', name: 'f', arguments: '' } }) +
    ev('response.output_item.done', { output_index: 0, item: { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"z":3}' } }) +
    ev('response.output_item.added', { output_index: 1, item: { type: 'function_call', call_id: 'c2', name: 'g', arguments: '' } }) +
    ev('response.output_item.done', { output_index: 1, item: { type: 'function_call', call_id: 'c2', name: 'g', arguments: '' } }) +
    ev('response.completed', { response: { status: 'completed', output: [{ type: 'function_call' }], usage: { input_tokens: 1, output_tokens: 1 } } });
  const c = run('responses', 'chat', respText);
  const calls = {};
  for (const e of c.out.split('\n\n').filter((x) => x.startsWith('data: {'))) {
    for (const t of JSON.parse(e.slice(6)).choices[0]?.delta?.tool_calls || []) calls[t.index] = (calls[t.index] || '') + (t.function.arguments || '');
  }
  assert.deepEqual(calls, { 0: '{"z":3}', 1: '{}' });
  // Anthropic, input whole in content_block_start.
  const anthText = ['message_start', 'content_block_start', 'content_block_stop', 'message_delta', 'message_stop'].map((type, i) => ev(type,
    [{ message: { id: 'm', usage: { input_tokens: 1 } } }, { index: 0, content_block: { type: 'tool_use', id: 't', name: 'f', input: { w: 4 } } }, { index: 0 },
      { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 2 } }, {}][i])).join('');
  assert.match(run('messages', 'chat', anthText).out, /"arguments":"\{\\"w\\":4\}"/);
  // An error mid-stream is the last thing the client gets; a cut-off stream is an error too.
  for (const [from, text] of [['messages', ev('message_start', { message: { id: 'm' } }) + ev('error', { error: { type: 'overloaded_error', message: 'busy' } })],
    ['chat', sse([{ choices: [{ index: 0, delta: { content: 'par' } }] }])]]) {
    for (const to of ['chat', 'messages', 'responses'].filter((f) => f !== from)) {
      const r = run(from, to, text);
      assert.ok(r.t.upstreamError, `${from} -> ${to}`);
      assert.equal(r.t.terminal, '', `${from} -> ${to}: no terminator`);
      assert.doesNotMatch(r.out, /finish_reason":"stop"|message_stop|response\.completed/, `${from} -> ${to}`);
      assert.match(r.out, /error|response\.failed/, `${from} -> ${to}`);
    }
  }
});
