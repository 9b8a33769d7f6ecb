// Benchmark OTLP/HTTP sink: accepts every POST (the gateway's trace exports, JSON), answers 200 at
// once and counts requests and spans; GET /stats returns the counts. Prints "READY <port>".
'use strict';
const http = require('node:http');

let requests = 0;
let spans = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ requests, spans, bytes }));
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    const raw = Buffer.concat(parts);
    requests++;
    bytes += raw.length;
    try {
      for (const rs of JSON.parse(raw.toString('utf8')).resourceSpans || []) for (const ss of rs.scopeSpans || []) spans += (ss.spans || []).length;
    } catch { /* counted as a request only */ }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
