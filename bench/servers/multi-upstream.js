// Benchmark upstream for the translation rows: a Chat Completions endpoint (/v1/chat/completions)
// and a Messages endpoint (/v1/messages), each answering a fixed completion at once, whole or as
// SSE (three text deltas and usage) when the request asks to stream. Prints "READY <port>".
'use strict';
const http = require('node:http');

const CHAT = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 0, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });
const MESSAGES = JSON.stringify({ id: 'msg_bench', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 3 } });
const chunk = (d) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'm', ...d })}\n\n`;
const CHAT_SSE = chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'o' }, finish_reason: null }] }) +
  chunk({ choices: [{ index: 0, delta: { content: 'k' }, finish_reason: null }] }) + chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
  chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } }) + 'data: [DONE]\n\n';
const ev = (type, d) => `event: ${type}\ndata: ${JSON.stringify({ type, ...d })}\n\n`;
const MESSAGES_SSE = ev('message_start', { message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) + ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'o' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'k' } }) + ev('content_block_stop', { index: 0 }) +
  ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }) + ev('message_stop', {});

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const stream = body.includes('"stream":true');
    const messages = req.url.startsWith('/v1/messages');
    const text = stream ? (messages ? MESSAGES_SSE : CHAT_SSE) : (messages ? MESSAGES : CHAT);
    res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
