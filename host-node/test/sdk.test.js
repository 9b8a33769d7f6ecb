// The official client libraries, pointed at the gateway, work unchanged: openai and
// @anthropic-ai/sdk, non-streaming and streaming.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');
const Anthropic = require('@anthropic-ai/sdk');
const { startTestGateway } = require('./helpers');

test('openai SDK: chat.completions.create, plain and streamed', async () => {
  const gw = await startTestGateway({ fakes: { alpha: {} }, catalog: { a: { provider_id: 'alpha', package_type: 'daily', limit_per_day: 100, models: ['*'] } }, server: { client_keys: ['ck-sdk-1234'] } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ck-sdk-1234', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.choices[0].message.content, 'Hello from alpha.');
    assert.equal(r.usage.total_tokens, 19);
    const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content || '';
    assert.equal(text, 'Hello from alpha.');
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === 'auto'));
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'auto', messages: [] }), (err) => err.status === 401);
  } finally {
    await gw.stop();
  }
});

test('@anthropic-ai/sdk: messages.create, plain and streamed', async () => {
  const gw = await startTestGateway({ fakes: { claude: { dialect: 'anthropic', limit: 100 } }, catalog: {} });
  try {
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
    const r = await client.messages.create({ model: 'claude-test-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.content[0].text, 'Hello from claude.');
    assert.equal(r.usage.output_tokens, 7);
    const stream = client.messages.stream({ model: 'claude-test-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(text, 'Hello from claude.');
    assert.equal(final.usage.output_tokens, 7);
  } finally {
    await gw.stop();
  }
});
