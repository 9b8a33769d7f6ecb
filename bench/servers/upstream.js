// Benchmark upstream: answers every POST at once with a fixed OpenAI-style completion and
// x-ratelimit headers. Prints "READY <port>".
'use strict';
const http = require('node:http');

const body = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 0, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });
const headers = {
  'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
  'x-ratelimit-limit-requests': '100000', 'x-ratelimit-remaining-requests': '99999', 'x-ratelimit-reset-requests': '1s',
  'x-ratelimit-limit-tokens': '10000000', 'x-ratelimit-remaining-tokens': '9999000', 'x-ratelimit-reset-tokens': '6m0s',
};
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
