// Server-sent events pass-through with usage capture. Bytes are forwarded event by event exactly
// as the upstream sent them, except:
//  - the OpenAI usage-only chunk, dropped when the client did not ask for it (we ask upstream on
//    its behalf so that streamed usage is counted);
//  - the terminal event (`data: [DONE]` for Chat Completions, `message_stop` for Messages), held
//    back in `terminal`: the proxy sends it only once the request's usage event is durable, so a
//    client never sees a complete stream whose usage the ledger failed to keep.
// Events are found incrementally (SseSplitter, also used by the translating path): each byte is scanned once (a chunk and the 3 characters before
// it), and one event larger than maxEventBytes (characters) raises SseEventTooLarge instead of
// being buffered without limit.
'use strict';
const { codexRateLimitLines } = require('./codex-rate-limits');
const { UsageReading } = require('./usage');

// A blank line ends an event; lines end in CRLF, LF or a lone CR (the SSE spec's three forms).
const SEP = /(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)/g;
const DEFAULT_MAX_EVENT = 1024 * 1024;

class SseEventTooLarge extends Error {
  constructor(limit) {
    super(`upstream SSE event larger than ${limit} bytes`);
    this.code = 'QG_SSE_EVENT_TOO_LARGE';
  }
}

// Splits an SSE byte stream (as text) into whole events, incrementally and bounded.
class SseSplitter {
  constructor(maxEventBytes = DEFAULT_MAX_EVENT) {
    this.maxEventBytes = maxEventBytes;
    this.parts = [];      // text of the event being received (no separator seen yet)
    this.size = 0;        // characters in parts
    this.tail = '';       // the last 3 scanned characters (a separator may straddle chunks)
  }

  // Calls onEvent(text) for each whole event (separator included). Throws SseEventTooLarge when
  // one event outgrows the limit.
  push(chunkText, onEvent) {
    let text = chunkText;
    while (text) {
      const probe = this.tail + text;
      SEP.lastIndex = 0;
      const m = SEP.exec(probe);
      if (!m) {
        this.parts.push(text);
        this.size += text.length;
        if (this.size > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
        this.tail = probe.slice(-3);
        return;
      }
      // The scanned tail held no separator, so this one ends inside `text`.
      const end = m.index + m[0].length - this.tail.length;
      if (this.size + end > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
      const event = this.parts.length ? this.parts.join('') + text.slice(0, end) : text.slice(0, end);
      this.parts = [];
      this.size = 0;
      this.tail = '';
      text = text.slice(end);
      onEvent(event);
    }
  }

  // Whatever is left when the stream ends (an unterminated last event).
  flush() {
    const rest = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.tail = '';
    return rest;
  }
}

// The `data:` payload of one event ('' when it has none).
function eventData(event) {
  let data = '';
  let first = true;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    data += (first ? '' : '\n') + line.slice(5).trimStart();
    first = false;
  }
  return data;
}

const DIALECT = { openai: 'chat', anthropic: 'messages', chat: 'chat', messages: 'messages', responses: 'responses' };

// Pass-through of one format's stream (client and provider speak the same format), with usage
// capture and the terminal event held back (see the header comment).
class SseUsageTap {
  // dialect: 'chat' | 'messages' | 'responses' (or 'openai' | 'anthropic'). renameModel: the name
  // the client asked for (a model group), written over the member's name in the events that carry
  // a model (chat chunks, message_start, response.*).
  constructor({ dialect, dropUsageChunk, maxEventBytes = DEFAULT_MAX_EVENT, renameModel = null }) {
    this.dialect = DIALECT[dialect] || 'chat';
    this.renameModel = renameModel;
    this.dropUsageChunk = dropUsageChunk;
    this.splitter = new SseSplitter(maxEventBytes);
    this.reading = new UsageReading();
    this.terminal = '';   // the withheld terminal event
    this.sawDone = false;
    this.malformed = 0;
    this.model = null;    // the model the answer names (before any rename), once seen
    this.out = '';
    this.onEvent = (event) => {
      this.out += this.inspect(event);
    };
  }

  get usage() {
    return this.reading.result();
  }

  // Values the upstream sent that failed validation ("usage.prompt_tokens=\"n/a\"").
  get invalidUsage() {
    return this.reading.invalid;
  }

  // Returns the text to forward now (complete events only; a partial event waits for more bytes).
  // Throws SseEventTooLarge when one event outgrows the limit.
  push(chunkText) {
    this.out = '';
    this.splitter.push(chunkText, this.onEvent);
    return this.out;
  }

  // Whatever is left when the upstream ends: an unterminated last event is inspected like any
  // other (its usage counted, a terminal held back) and forwarded as it came.
  flush() {
    const rest = this.splitter.flush();
    return rest ? this.inspect(rest) : '';
  }

  // The text of one event to forward ('' to hold it back or drop it).
  inspect(event) {
    const data = eventData(event);
    if (!data) return event;
    if (data === '[DONE]') {
      this.sawDone = true;
      this.terminal += event;
      return '';
    }
    let obj;
    try {
      obj = JSON.parse(data);
    } catch {
      this.malformed++;
      return event;  // not ours to judge: pass it through
    }
    if (!obj || typeof obj !== 'object') return event;
    if (this.model === null) this.model = modelOf(this.dialect, obj);
    if (this.renameModel) event = this.renamed(event, obj);
    if (this.dialect === 'messages') {
      const u = obj.type === 'message_start' ? obj.message && obj.message.usage : obj.usage;
      if (u !== undefined) this.reading.read('messages', u);
      if (obj.type === 'message_stop') {
        this.sawDone = true;
        this.terminal += event;
        return '';
      }
      return event;
    }
    if (this.dialect === 'responses') {
      if (obj.type === 'codex.rate_limits') this.rateLimits = codexRateLimitLines(obj) || this.rateLimits;
      if (obj.type === 'response.completed' || obj.type === 'response.incomplete') {
        if (obj.response && obj.response.usage !== undefined) this.reading.read('responses', obj.response.usage);
        this.sawDone = true;
        this.terminal += event;
        return '';
      }
      return event;
    }
    if (obj.usage !== undefined && obj.usage !== null) {
      this.reading.read('chat', obj.usage);
      if (this.dropUsageChunk && Array.isArray(obj.choices) && obj.choices.length === 0) return '';
    }
    return event;
  }
}

// The model a stream event of `format` names (the one answering: chat chunks, message_start,
// response.*), or null.
function modelOf(format, obj) {
  const holder = format === 'messages' ? (obj.type === 'message_start' ? obj.message : null) : format === 'responses' ? obj.response : obj;
  return holder && typeof holder === 'object' && typeof holder.model === 'string' ? holder.model : null;
}

// The event with its data lines replaced by one line of `data` (its other fields and its
// terminating blank line kept).
function withData(event, data) {
  const end = /(?:\r\n|\r|\n)+$/.exec(event);
  const body = end ? event.slice(0, end.index) : event;
  const kept = body.split(/\r\n|\r|\n/).filter((line) => !line.startsWith('data:'));
  return `${[...kept, `data: ${data}`].join('\n')}${end ? end[0] : '\n\n'}`;
}

SseUsageTap.prototype.renamed = function renamed(event, obj) {
  const holder = this.dialect === 'messages' ? (obj.type === 'message_start' ? obj.message : null)
    : this.dialect === 'responses' ? obj.response : obj;
  if (!holder || typeof holder !== 'object' || typeof holder.model !== 'string' || holder.model === this.renameModel) return event;
  holder.model = this.renameModel;
  return withData(event, JSON.stringify(obj));
};

module.exports = { SseUsageTap, SseSplitter, SseEventTooLarge, eventData, modelOf, DEFAULT_MAX_EVENT };
