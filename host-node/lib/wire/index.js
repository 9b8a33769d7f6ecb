// The wire formats quotagate speaks and the one place that pairs them: a request in the client's
// format is translated only when the provider's backend speaks another one, always through the
// neutral form (neutral.js), one codec per format. StreamTranslator does it for SSE streams,
// incrementally: each upstream event becomes the client's events as it arrives.
'use strict';
const { codexRateLimitLines } = require('../codex-rate-limits');
const chat = require('./openai-chat');
const messages = require('./anthropic-messages');
const responses = require('./openai-responses');
const { SseSplitter, eventData, modelOf } = require('../sse');
const { UsageReading } = require('../usage');

const CODECS = { chat, messages, responses };
// providers[].backend -> the wire format it speaks.
const BACKEND_FORMAT = { 'openai-compat': 'chat', anthropic: 'messages', 'openai-responses': 'responses' };

// Where each format's usage sits in a stream event (for the validated reading in usage.js).
function streamUsage(format, data) {
  if (format === 'chat') return data.usage;
  if (format === 'messages') return data.type === 'message_start' ? data.message && data.message.usage : data.usage;
  return (data.type === 'response.completed' || data.type === 'response.incomplete') && data.response ? data.response.usage : undefined;
}

class StreamTranslator {
  // from: the provider's format; to: the client's; model: the name the client asked for;
  // includeUsage: Chat clients that asked for the usage chunk.
  constructor({ from, to, model, includeUsage = false, maxEventBytes }) {
    this.from = from;
    this.decoder = new CODECS[from].StreamDecoder();
    this.encoder = new CODECS[to].StreamEncoder({ model, includeUsage });
    this.splitter = new SseSplitter(maxEventBytes);
    this.reading = new UsageReading();
    this.terminal = '';
    this.upstreamError = null;  // the error event the upstream sent (or a cut-off stream), if any
    this.toolArgs = new Map();  // tool-call block -> characters of arguments sent
    this.malformed = 0;
    this.model = null;  // the model the provider's answer names, once seen
    this.out = '';
    this.onEvent = (event) => this.handle(eventData(event));
  }

  get usage() {
    return this.reading.result();
  }

  get invalidUsage() {
    return this.reading.invalid;
  }

  handle(data) {
    if (!data || this.upstreamError) return;  // an error event ends the stream for the client
    let obj = data;
    if (data !== '[DONE]') {
      try {
        obj = JSON.parse(data);
      } catch {
        this.malformed++;
        return;
      }
      if (obj && typeof obj === 'object') {
        const u = streamUsage(this.from, obj);
        if (u !== undefined) this.reading.read(this.from, u);
        if (this.model === null) this.model = modelOf(this.from, obj);
        if (obj.type === 'codex.rate_limits') this.rateLimits = codexRateLimitLines(obj) || this.rateLimits;
      }
    }
    for (const ev of this.decoder.push(obj)) this.emit(ev);
  }

  emit(ev) {
    if (this.upstreamError) return;
    if (ev.type === 'error') this.upstreamError = ev.error;
    if (ev.type === 'block_start' && ev.block.type === 'tool_call') this.toolArgs.set(ev.index, 0);
    if (ev.type === 'delta' && ev.arguments && this.toolArgs.has(ev.index)) this.toolArgs.set(ev.index, this.toolArgs.get(ev.index) + ev.arguments.length);
    if (ev.type === 'block_stop' && this.toolArgs.get(ev.index) === 0) {
      // A tool without arguments: its clients expect "{}", never "" (JSON.parse fails on it).
      this.toolArgs.set(ev.index, 2);
      this.emit({ type: 'delta', index: ev.index, arguments: '{}' });
    }
    const { text, terminal } = this.encoder.encode(ev);
    this.out += text;
    if (terminal) this.terminal += terminal;
  }

  // Upstream text in; the client's text to write now out. Throws SseEventTooLarge.
  push(chunkText) {
    this.out = '';
    this.splitter.push(chunkText, this.onEvent);
    return this.out;
  }

  // The upstream body ended. After the provider's own end of answer, closes what is open; a body
  // that ended before it (no [DONE], finish_reason, message_stop or response.completed) is a cut-off
  // answer, and the client gets an error event, never a complete one.
  end() {
    this.out = '';
    const rest = this.splitter.flush();
    if (rest) this.onEvent(rest);
    if (this.upstreamError) return this.out;
    if (!this.decoder.complete) {
      this.emit({ type: 'error', error: { status: 502, type: 'server_error', code: 'upstream_incomplete', message: 'the provider ended its stream before the end of the answer' } });
      return this.out;
    }
    for (const ev of this.decoder.end()) this.emit(ev);
    return this.out;
  }
}

// The stream events of a whole response (an upstream that answered a streamed request with one
// JSON body): the client still gets a stream in its format.
function eventsOfResponse(resp) {
  const out = [{ type: 'start', id: resp.id, model: resp.model, usage: { ...resp.usage, output: 0 } }];
  resp.content.forEach((p, index) => {
    if (p.type === 'text') out.push({ type: 'block_start', index, block: { type: 'text' } }, { type: 'delta', index, text: p.text });
    else if (p.type === 'reasoning') out.push({ type: 'block_start', index, block: { type: 'reasoning' } }, { type: 'delta', index, text: p.text });
    else if (p.type === 'tool_call') out.push({ type: 'block_start', index, block: { type: 'tool_call', id: p.id, name: p.name } }, { type: 'delta', index, arguments: p.arguments });
    else return;
    out.push({ type: 'block_stop', index });
  });
  out.push({ type: 'finish', stop_reason: resp.stop_reason, usage: resp.usage });
  return out;
}

module.exports = { CODECS, BACKEND_FORMAT, StreamTranslator, eventsOfResponse };
