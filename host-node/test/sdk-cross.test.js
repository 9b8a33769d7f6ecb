// Issue 13: every client format reaches every provider format. The official SDKs (openai:
// chat.completions and responses, plain and streamed; @anthropic-ai/sdk: messages.create, stream,
// countTokens, models.list) each talk to a gateway whose only provider for their model speaks
// another format, including one tool-call round trip: the fake upstream asks for a tool, the
// client runs it, the answer comes back quoting the tool's output.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const OpenAI = require('openai');
const Anthropic = require('@anthropic-ai/sdk');
const { startTestGateway } = require('./helpers');
const { FakeProvider } = require('../lib/demo/fake-provider');
const { LedgerStore } = require('../lib/ledger-store');

const DAILY = (provider) => ({ provider_id: provider, package_type: 'daily', limit_per_day: 1000, models: ['*'] });
const SHELL_CHAT = { type: 'function', function: { name: 'shell', description: 'run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } } };
const SHELL_ANTHROPIC = { name: 'shell', description: 'run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };
const SHELL_RESPONSES = { type: 'function', name: 'shell', description: 'run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };

// A gateway with one provider of the given wire format ('chat' | 'messages' | 'responses').
async function gatewayWith(wire) {
  const fake = await new FakeProvider({ name: `up-${wire}`, dialect: wire === 'messages' ? 'anthropic' : 'openai', wire, limit: 1000 }).listen(0);
  const backend = { chat: 'openai-compat', messages: 'anthropic', responses: 'openai-responses' }[wire];
  const gw = await startTestGateway({
    extraProviders: [{ name: fake.name, backend, base_url: wire === 'messages' ? fake.url : `${fake.url}/v1`, api_key: 'sk-up-000000', models: ['*'],
      price: { input_per_1m: 1, output_per_1m: 2 } }],
    catalog: { p: DAILY(fake.name) },
  });
  return { gw, fake, async stop() { await gw.stop(); await fake.close(); } };
}

for (const wire of ['messages', 'responses']) {
  test(`openai SDK chat.completions -> a ${wire} provider: plain, streamed, tool round trip`, async () => {
    const { gw, fake, stop } = await gatewayWith(wire);
    try {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'some-model', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], max_tokens: 50, temperature: 0.5 });
      assert.equal(r.choices[0].message.content, `Hello from up-${wire}.`);
      assert.equal(r.choices[0].finish_reason, 'stop');
      assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens], [12, 7]);
      assert.equal(r.model, 'some-model');
      const sent = fake.lastRequest.body;
      if (wire === 'messages') {
        assert.equal(sent.system, 'be brief');
        assert.equal(sent.max_tokens, 50);
        assert.equal(fake.lastRequest.url, '/v1/messages');
      } else {
        assert.equal(sent.instructions, 'be brief');
        assert.equal(sent.max_output_tokens, 50);
        assert.equal(fake.lastRequest.url, '/v1/responses');
      }
      const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content || '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, `Hello from up-${wire}.`);
      assert.equal(usage.completion_tokens, 7);
      // Tool round trip, streamed: the model asks for `shell`, the client runs it, the answer quotes it.
      const messages = [{ role: 'user', content: 'list files' }];
      const s1 = await client.chat.completions.create({ model: 'm', messages, tools: [SHELL_CHAT], stream: true });
      const calls = [];
      let finish = null;
      for await (const chunk of s1) {
        for (const c of chunk.choices[0]?.delta?.tool_calls || []) {
          calls[c.index] = calls[c.index] || { id: '', name: '', arguments: '' };
          if (c.id) calls[c.index].id = c.id;
          if (c.function?.name) calls[c.index].name = c.function.name;
          if (c.function?.arguments) calls[c.index].arguments += c.function.arguments;
        }
        finish = chunk.choices[0]?.finish_reason || finish;
      }
      assert.equal(finish, 'tool_calls');
      assert.equal(calls.length, 1);
      assert.equal(calls[0].name, 'shell');
      assert.deepEqual(JSON.parse(calls[0].arguments), { command: 'echo hi' });
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'shell', arguments: calls[0].arguments } }] });
      messages.push({ role: 'tool', tool_call_id: calls[0].id, content: 'hi' });
      const r2 = await client.chat.completions.create({ model: 'm', messages, tools: [SHELL_CHAT] });
      assert.equal(r2.choices[0].message.content, 'The tool returned: hi');
      // What the provider saw: the call and its result in its own format.
      const seen = JSON.stringify(fake.lastRequest.body);
      if (wire === 'messages') assert.match(seen, /"type":"tool_result","tool_use_id":"toolu_fake_\w+","content":"hi"/);
      else assert.match(seen, /"type":"function_call_output","call_id":"call_fake_\w+","output":"hi"/);
    } finally {
      await stop();
    }
  });
}

for (const wire of ['chat', 'responses']) {
  test(`@anthropic-ai/sdk -> a ${wire} provider: create, stream, tool round trip, countTokens, models`, async () => {
    const { gw, fake, stop } = await gatewayWith(wire);
    try {
      const client = new Anthropic({ baseURL: gw.url, apiKey: 'x', maxRetries: 0 });
      const r = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'be brief', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.content[0].text, `Hello from up-${wire}.`);
      assert.equal(r.stop_reason, 'end_turn');
      assert.deepEqual([r.usage.input_tokens, r.usage.output_tokens], [12, 7]);
      const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
      let text = '';
      stream.on('text', (t) => { text += t; });
      const final = await stream.finalMessage();
      assert.equal(text, `Hello from up-${wire}.`);
      assert.equal(final.usage.output_tokens, 7);
      // Tool round trip through the SDK's stream helper.
      const s1 = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [SHELL_ANTHROPIC], messages: [{ role: 'user', content: 'list files' }] });
      const m1 = await s1.finalMessage();
      assert.equal(m1.stop_reason, 'tool_use');
      const use = m1.content.find((b) => b.type === 'tool_use');
      assert.equal(use.name, 'shell');
      assert.deepEqual(use.input, { command: 'echo hi' });
      const m2 = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [SHELL_ANTHROPIC], messages: [
        { role: 'user', content: 'list files' }, { role: 'assistant', content: m1.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'README.md' }] }] });
      assert.equal(m2.content[0].text, 'The tool returned: README.md');
      const count = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello world' }] });
      assert.ok(count.input_tokens >= 2 && count.input_tokens < 20, `estimate ${count.input_tokens}`);
      const models = await client.models.list();
      assert.ok(models.data.some((m) => m.id === 'auto' && m.type === 'model'));
      assert.equal(fake.received, 4, 'countTokens and models.list never reach the provider');
    } finally {
      await stop();
    }
  });
}

for (const wire of ['chat', 'messages', 'responses']) {
  test(`openai SDK responses.create -> a ${wire} provider: plain, streamed, function call round trip`, async () => {
    const { gw, fake, stop } = await gatewayWith(wire);
    try {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const r = await client.responses.create({ model: 'gpt-5', instructions: 'be brief', input: 'hi', store: false });
      assert.equal(r.output_text, `Hello from up-${wire}.`);
      assert.equal(r.usage.output_tokens, 7);
      const events = [];
      const stream = await client.responses.create({ model: 'gpt-5', input: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: 'hi' }], stream: true, store: false });
      let text = '';
      let completed = null;
      for await (const ev of stream) {
        events.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') completed = ev.response;
      }
      assert.equal(text, `Hello from up-${wire}.`);
      assert.equal(completed.usage.output_tokens, 7);
      assert.equal(events[0], 'response.created');
      assert.ok(events.includes('response.output_item.done'));
      // Function call round trip, as Codex CLI does it (stateless: the whole input every turn).
      const input = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] }];
      const s1 = await client.responses.create({ model: 'gpt-5', input, tools: [SHELL_RESPONSES], stream: true, store: false });
      let call = null;
      for await (const ev of s1) if (ev.type === 'response.output_item.done' && ev.item.type === 'function_call') call = ev.item;
      assert.equal(call.name, 'shell');
      assert.deepEqual(JSON.parse(call.arguments), { command: 'echo hi' });
      input.push({ type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments });
      input.push({ type: 'function_call_output', call_id: call.call_id, output: 'hi' });
      const r2 = await client.responses.create({ model: 'gpt-5', input, tools: [SHELL_RESPONSES], store: false });
      assert.equal(r2.output_text, 'The tool returned: hi');
      await assert.rejects(client.responses.create({ model: 'gpt-5', input: 'hi', previous_response_id: 'resp_123' }),
        (err) => err.status === 400 && /previous_response_id is not supported/.test(err.message));
    } finally {
      await stop();
    }
  });
}

test('usage with cached tokens is counted and priced on its own; the ledger keeps tokens_cached', async () => {
  const http = require('node:http');
  const up = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'c', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn',
      usage: { input_tokens: 7, cache_read_input_tokens: 10000, cache_creation_input_tokens: 0, output_tokens: 5 } }));
  });
  await new Promise((resolve) => up.listen(0, '127.0.0.1', resolve));
  const gw = await startTestGateway({
    extraProviders: [{ name: 'claude', backend: 'anthropic', base_url: `http://127.0.0.1:${up.address().port}`, api_key: 'sk-a-000000', models: ['*'],
      price: { input_per_1m: 3, output_per_1m: 15, cached_input_per_1m: 0.3 } }],
    catalog: { c: { provider_id: 'claude', package_type: 'credits', total_credits: 100, used_credits: 0, currency: 'USD', models: ['*'] } },
  });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'c', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.usage.prompt_tokens, 10007, 'cached input counts in the client\'s prompt_tokens');
    assert.equal(r.usage.prompt_tokens_details.cached_tokens, 10000);
    const pkg = (await (await fetch(`${gw.url}/api/quotas`)).json()).packages[0];
    // 7 fresh x 3 + 10000 cached x 0.3 + 5 out x 15, per 1M tokens
    assert.ok(Math.abs(pkg.used - (7 * 3 + 10000 * 0.3 + 5 * 15) / 1e6) < 1e-9, `used ${pkg.used}`);
  } finally {
    await gw.stop();
    up.close();
  }
  const store = new LedgerStore({ dir: path.join(gw.dir, 'ledger') });
  const [e] = await store.open();
  store.close();
  assert.deepEqual([e.tokens_in, e.tokens_cached, e.tokens_out], [10007, 10000, 5]);
});

test('errors keep their kind across formats; long waits say x-should-retry: false; every refusal is logged and counted', async () => {
  const http = require('node:http');
  let answer = null;
  const up = http.createServer((req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise((resolve) => up.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${up.address().port}`;
  const claudeFake = await new FakeProvider({ name: 'claude', dialect: 'anthropic', limit: 1000 }).listen(0);
  const gw = await startTestGateway({
    extraProviders: [{ name: 'oa', base_url: `${base}/v1`, api_key: 'sk-oa-000000', models: ['gpt-x', 'gpt-gone'] },
      { name: 'an', backend: 'anthropic', base_url: base, api_key: 'sk-an-000000', models: ['claude-x'] },
      { name: 'claude', backend: 'anthropic', base_url: claudeFake.url, api_key: 'sk-cl-000000', models: ['claude-count*'] }],
    catalog: { oa: { ...DAILY('oa'), models: ['gpt-x'] }, an: DAILY('an'), cl: DAILY('claude'), gone: { provider_id: 'oa', package_type: 'daily', limit_per_day: 1, models: ['gpt-gone'] } },
  });
  try {
    answer = { status: 400, body: { error: { message: 'maximum context length is 8192 tokens', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } } };
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 400 && err.code === 'context_length_exceeded' && err.param === 'messages');
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(anthropic.messages.create({ model: 'gpt-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 400 && err.error.error.type === 'invalid_request_error' && /maximum context length/.test(err.message));
    answer = { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'model: claude-x' } } };
    await assert.rejects(anthropic.messages.create({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 404 && err.error.error.type === 'not_found_error');
    await assert.rejects(openai.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 404 && err.type === 'not_found_error');
    // Our own refusals in Anthropic's vocabulary: an unknown model is not_found_error.
    await assert.rejects(anthropic.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      (err) => err.status === 404 && err.error.error.type === 'not_found_error');
    // A package exhausted until its reset (hours away): 429, Retry-After and x-should-retry: false.
    answer = { status: 200, body: { id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } } };
    assert.equal((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-gone', messages: [] }) })).status, 200);
    const limited = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-gone', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 60);
    assert.equal(limited.headers.get('x-should-retry'), 'false');
    assert.equal((await limited.json()).error.type, 'rate_limit_error');
    // count_tokens: the Anthropic provider's own count (free), no usage recorded.
    const before = claudeFake.received;
    const count = await anthropic.messages.countTokens({ model: 'claude-count-1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(count.input_tokens, 42);
    assert.equal(claudeFake.received, before + 1);
    assert.equal((await (await fetch(`${gw.url}/api/quotas`)).json()).packages.find((p) => p.package_id === 'cl').used, 0, 'count_tokens costs no quota');
    // Unknown paths: a log line and a metric with the status the client got.
    assert.equal((await fetch(`${gw.url}/v1/nope`)).status, 404);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /quotagate_requests_total\{endpoint="chat",provider="none",status="404"\} [1-9]/);
    assert.match(gw.logs.text(), /"path":"\/v1\/nope","status":404/);
    // GET /v1/models in each SDK's shape; GET /v1/models/{id}; wildcards listed by catalog names.
    const list = await anthropic.models.list();
    assert.ok(list.data.every((m) => m.type === 'model' && typeof m.display_name === 'string'));
    const one = await openai.models.retrieve('gpt-x');
    assert.equal(one.owned_by, 'oa');
    await assert.rejects(openai.models.retrieve('nope'), (err) => err.status === 404);
  } finally {
    await gw.stop();
    await claudeFake.close();
    up.close();
  }
});
