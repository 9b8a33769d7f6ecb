// The JSON body of a proxy request (/v1/chat/completions, /v1/messages, /v1/responses) read
// straight from node:http when it is the plain case: identity content encoding, a Content-Length
// within the limit, UTF-8 (no charset, or charset=utf-8). Every other body (gzip, chunked, UTF-16,
// a declared length over the limit) goes to body-parser, which handles them all. Same outcome as
// body-parser's json({strict: false}) with the gateway's depth check: req.body set, an empty body
// is {}, a UTF-8 byte order mark is dropped, and errors carry body-parser's `type`
// (entity.parse.failed, entity.too.deep, entity.too.large, request.aborted) so that gateway.js
// writeError answers them alike. Why not body-parser for these too: raw-body's stream machinery
// (on-finished, an async resource per request, iconv) measured ~5-8 us of the gateway's ~170 us of
// main-thread CPU per request (docs/performance.md, "Session 10").
'use strict';
const { jsonDepth, MAX_DEPTH } = require('./json-text');

// A Content-Type the plain reader takes: no charset anywhere in it, or a media type followed by
// exactly one parameter, charset=utf-8 (optionally quoted). Anything else (utf8 without the
// hyphen, which body-parser refuses with 415, a second charset, a charset inside another
// parameter's quoted value) is body-parser's to judge.
const CHARSET = /charset/i;
const ONLY_CHARSET_UTF8 = /^[^;"]*;\s*charset\s*=\s*(utf-8|"utf-8")\s*$/i;

// Whether readPlainJson can read this request (else body-parser does). limit: bytes.
function isPlainJson(req, limit) {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return false;
  const enc = h['content-encoding'];
  if (enc !== undefined && enc.toLowerCase() !== 'identity') return false;
  const len = h['content-length'];
  if (len === undefined || !/^\d{1,12}$/.test(len) || Number(len) > limit) return false;
  const type = h['content-type'];
  return type === undefined || !CHARSET.test(type) || ONLY_CHARSET_UTF8.test(type);
}

// expose: a client's error (http-errors' flag, as body-parser's own errors carry it).
function bodyError(message, type, status = 400) {
  return Object.assign(new Error(message), { type, status, expose: true });
}

// Reads the body (its length is framed by Content-Length, at most `limit` bytes), then calls
// done(null) with req.body set, or done(err) once: err.type as body-parser names it.
function readPlainJson(req, limit, done) {
  const chunks = [];
  let size = 0;
  let settled = false;
  const finish = (err) => {
    if (settled) return;
    settled = true;
    done(err || null);
  };
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  req.on('error', (err) => finish(bodyError(`request aborted (${err.code || err.message})`, 'request.aborted')));
  req.on('end', () => {
    if (size > limit) return finish(bodyError('request entity too large', 'entity.too.large', 413));
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
    if (jsonDepth(buf, MAX_DEPTH) > MAX_DEPTH) return finish(bodyError(`request JSON is nested deeper than ${MAX_DEPTH} levels`, 'entity.too.deep'));
    let text = buf.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length === 0) {
      req.body = {};
      return finish(null);
    }
    try {
      req.body = JSON.parse(text);
    } catch (err) {
      return finish(Object.assign(err, { type: 'entity.parse.failed', status: 400 }));
    }
    return finish(null);
  });
}

module.exports = { isPlainJson, readPlainJson };
