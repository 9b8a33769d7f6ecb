// A provider's successful answer, delivered to the client: whole or streamed, passed through byte
// for byte when client and provider speak the same wire format, translated through the neutral
// form otherwise. Each path records exactly one usage event and completes the client's response
// only once that event is durable (a streamed answer's terminal event is held back until then).
// Shared state comes in `ctx` (proxy.js tryProvider): { proxy, provider, decision, kind, body,
// stream, res, client, requestId, sentAt, exchange, status, learn, up }. A served answer's outcome
// is { done: true, status, event (its usage event), model (what the upstream's answer names) }.
'use strict';
const { SseUsageTap } = require('./sse');
const { usageFromJson } = require('./usage');
const { CODECS, StreamTranslator, eventsOfResponse } = require('./wire');
const { headerOf } = require('./upstream-exchange');

// After the terminal event, the upstream has this long to end its body before it is cut (the
// client's answer does not wait for it).
const END_AFTER_TERMINAL_MS = 1000;
const { recordUsageEvent } = require('./engine-session');

const MAX_UPSTREAM_BODY = 64 * 1024 * 1024;  // bytes of a non-streamed completion

// Thrown when the usage event cannot be made durable: the client gets 503, never success.
function ledgerUnavailable(proxy, err) {
  return new proxy.ClientError(503, `usage ledger unavailable: ${err.code || err.message}`, 'ledger_unavailable', { 'retry-after': '5' });
}

// The upstream's whole JSON body: { json, text }, or { outcome } for the proxy when it could not be
// read (a failure to fail over from) or the client left meanwhile (usage unknown, still counted).
async function readUpstreamJson(ctx) {
  const { proxy, provider, decision, client, requestId, sentAt, exchange, status, learn } = ctx;
  const failed = (reason) => {
    learn();
    if (client.gone) {  // read until the drain limit and still not whole: usage unknown
      proxy.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage: null, sentAt });
      return { outcome: { done: true, status: 499, reason: 'client went away' } };
    }
    proxy.recordFailure(provider.name, reason);
    proxy.appendEvent({ requestId, provider, model: decision.model, account: decision.account, status: 502, usage: null, sentAt });
    return { outcome: { done: false, status: 502, reason } };
  };
  let text;
  try {
    text = await exchange.readAll(MAX_UPSTREAM_BODY);
  } catch {
    return failed('body read failed');
  }
  try {
    const json = JSON.parse(text);
    if (json && typeof json === 'object') return { json, text };
  } catch { /* below */ }
  return failed('malformed upstream JSON');
}

async function answerWhole(ctx) {
  const { proxy, provider, decision, kind, body, res, requestId, sentAt, status, learn, up } = ctx;
  const read = await readUpstreamJson(ctx);
  if (read.outcome) return read.outcome;
  const { json, text } = read;
  const { usage, invalid } = usageFromJson(up.format, json);
  const event = proxy.ledgerEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage, sentAt, invalid, redactor: ctx.redactor });
  let out = text;
  if (up.translated) {
    const neutral = CODECS[up.format].decodeResponse(json);
    out = JSON.stringify(CODECS[kind].encodeResponse(neutral, { model: body.model }));
  } else if (ctx.renameModel && json && typeof json === 'object' && typeof json.model === 'string') {
    out = JSON.stringify({ ...json, model: ctx.renameModel });  // a model group: the client's name
  }
  out = ctx.redactor.text(out);  // a provider that echoes a key in its answer
  try {
    await proxy.durable();
  } catch (err) {
    learn();
    recordUsageEvent(proxy.engine, event);  // the upstream served it: it counts, and stays queued for the journal
    throw ledgerUnavailable(proxy, err);
  }
  // Plain node:http methods: this also runs on the fast path, outside express.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
  res.end(out);
  learn();
  recordUsageEvent(proxy.engine, event);
  proxy.metrics.countRequest(kind, provider.name, status);
  return { done: true, status, event, model: json.model };
}

// Streaming: from the first byte on there is no failover. The terminal event is held back until the
// usage event is durable; if it cannot be made durable, the client gets an error event instead,
// never a complete stream. A client that leaves is not followed by an abort: the upstream is read
// to its end (output discarded) so that the usage it reports is counted.
async function answerStream(ctx) {
  const { proxy, provider, decision, kind, body, res, client, requestId, sentAt, exchange, status, learn, up } = ctx;
  const type = headerOf(ctx.headers, 'content-type');
  if (type && /^application\/json/i.test(type)) return answerJsonAsStream(ctx);
  const includeUsage = !!(body.stream_options && body.stream_options.include_usage);
  const tap = up.translated
    ? new StreamTranslator({ from: up.format, to: kind, model: body.model, includeUsage, maxEventBytes: proxy.maxSseEventBytes })
    : new SseUsageTap({ dialect: kind, dropUsageChunk: !includeUsage, maxEventBytes: proxy.maxSseEventBytes, renameModel: ctx.renameModel });
  startStream(res);
  learn();
  const decoder = new TextDecoder();
  let outcome = 200;  // what the client got: 200, 499 (went away) or 502 (upstream broke)
  let broke = null;
  let finished = false;  // the terminal event arrived: the answer is complete
  let terminalSeen = null;
  const sawTerminal = new Promise((resolve) => { terminalSeen = resolve; });
  const write = (text) => (text && !client.gone && !finished ? res.write(ctx.redactor.text(text)) : true);
  const piping = exchange.pipeTo({
    write: (chunk) => {
      const ok = write(tap.push(decoder.decode(chunk, { stream: true })));
      if (tap.terminal) terminalSeen();
      return ok;
    },
    waitDrain: (resume) => {
      if (client.gone) return resume();
      client.resume = resume;
      res.once('drain', () => {
        if (client.resume === resume) client.resume = null;
        resume();
      });
    },
  });
  try {
    // An upstream that sent its terminal event but keeps the body open does not hold the client.
    const first = await Promise.race([piping.then(() => 'ended'), sawTerminal.then(() => 'terminal')]);
    if (first === 'terminal') {
      piping.catch(() => {});
      const cut = setTimeout(() => exchange.abort(new Error('stream complete')), END_AFTER_TERMINAL_MS);
      cut.unref();
    } else {
      write(up.translated ? tap.push(decoder.decode()) + tap.end() : tap.push(decoder.decode()) + tap.flush());
    }
  } catch (err) {
    broke = err;
    if (err && err.code === 'QG_SSE_EVENT_TOO_LARGE') exchange.abort(err);
  }
  finished = true;
  // A translated stream whose provider sent an error event (or stopped before the end of its
  // answer): the client already has the error in its format; no terminator follows it.
  const upstreamFailed = up.translated && tap.upstreamError && !broke;
  if (upstreamFailed) {
    proxy.recordFailure(provider.name, `stream error: ${String(tap.upstreamError.code || tap.upstreamError.type).slice(0, 60)}`);
    if (!client.gone) outcome = 502;
  }
  if (client.gone) outcome = 499;
  else if (broke) outcome = 502;
  // The upstream answered 200 and served what it served: the request counts with the usage seen.
  const event = proxy.ledgerEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage: tap.usage, sentAt, invalid: tap.invalidUsage, redactor: ctx.redactor });
  // A Codex backend's in-stream reading (codex.rate_limits) is newer than the response headers.
  if (tap.rateLimits) proxy.observe(provider.name, 200, tap.rateLimits, '', -1, decision.account, decision.model, ctx.redactor);
  const encoder = up.translated ? tap.encoder : null;
  if (broke && !client.gone) {
    const tooLarge = broke.code === 'QG_SSE_EVENT_TOO_LARGE';
    proxy.recordFailure(provider.name, tooLarge ? 'SSE event too large' : 'stream interrupted');
    res.write(CODECS[kind].encodeStreamError({ status: 502, type: 'server_error', code: 'upstream_error',
      message: `${provider.name}: ${tooLarge ? broke.message : 'upstream stream interrupted'}` }, encoder));
  }
  outcome = await finishStream(ctx, event, broke || client.gone || upstreamFailed ? '' : tap.terminal, encoder, outcome);
  return { done: true, status: outcome, event, model: tap.model };
}

function startStream(res) {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
}

// Makes the usage event durable, then sends the terminal event (or, when the ledger cannot keep
// it, an error event instead), ends the response and counts it. Returns the client's status.
async function finishStream(ctx, event, terminal, encoder, outcome) {
  const { proxy, provider, kind, res, client } = ctx;
  try {
    await proxy.durable();
    if (terminal && !client.gone) res.write(ctx.redactor.text(terminal));
  } catch (err) {
    outcome = 503;
    if (!client.gone) {
      res.write(CODECS[kind].encodeStreamError({ status: 503, type: 'server_error', code: 'ledger_unavailable',
        message: `usage ledger unavailable (${err.code || err.message}); this answer was not recorded, retry later` }, encoder));
    }
  }
  recordUsageEvent(proxy.engine, event);
  proxy.metrics.countRequest(kind, provider.name, outcome);
  res.end();
  return outcome;
}

// A streamed request answered with one JSON body (a provider that ignores `stream`): the usage is
// read from it and the client still gets a stream, in its own format.
async function answerJsonAsStream(ctx) {
  const { proxy, provider, decision, kind, body, client, requestId, sentAt, status, learn, up } = ctx;
  const read = await readUpstreamJson(ctx);
  if (read.outcome) return read.outcome;
  const { json } = read;
  const { usage, invalid } = usageFromJson(up.format, json);
  const event = proxy.ledgerEvent({ requestId, provider, model: decision.model, account: decision.account, status, usage, sentAt, invalid, redactor: ctx.redactor });
  const encoder = new CODECS[kind].StreamEncoder({ model: body.model, includeUsage: !!(body.stream_options && body.stream_options.include_usage) });
  let text = '';
  let terminal = '';
  for (const ev of eventsOfResponse(CODECS[up.format].decodeResponse(json))) {
    const r = encoder.encode(ev);
    text += r.text;
    terminal += r.terminal;
  }
  startStream(ctx.res);
  learn();
  if (!client.gone) ctx.res.write(ctx.redactor.text(text));
  const outcome = await finishStream(ctx, event, client.gone ? '' : terminal, encoder, client.gone ? 499 : 200);
  return { done: true, status: outcome, event, model: json.model };
}

module.exports = { answerWhole, answerStream };
