// Server-sent events pass-through with usage capture. Bytes are forwarded event by event exactly
// as the upstream sent them, except:
//  - the OpenAI usage-only chunk, dropped when the client did not ask for it (we ask upstream on
//    its behalf so that streamed usage is counted);
//  - the terminal event (`data: [DONE]` for Chat Completions, `message_stop` for Messages), held
//    back in `terminal`: the proxy sends it only once the request's usage event is durable, so a
//    client never sees a complete stream whose usage the ledger failed to keep.
// Events are found incrementally: each byte is scanned once (a chunk and the 3 characters before
// it), and one event larger than maxEventBytes (characters) raises SseEventTooLarge instead of
// being buffered without limit.
'use strict';
const { UsageReading } = require('./usage');

const SEP = /\r?\n\r?\n/g;
const DEFAULT_MAX_EVENT = 1024 * 1024;

class SseEventTooLarge extends Error {
  constructor(limit) {
    super(`upstream SSE event larger than ${limit} bytes`);
    this.code = 'QG_SSE_EVENT_TOO_LARGE';
  }
}

class SseUsageTap {
  // dialect: 'openai' | 'anthropic'.
  constructor({ dialect, dropUsageChunk, maxEventBytes = DEFAULT_MAX_EVENT }) {
    this.dialect = dialect;
    this.dropUsageChunk = dropUsageChunk;
    this.maxEventBytes = maxEventBytes;
    this.parts = [];      // text of the event being received (no separator seen yet)
    this.size = 0;        // characters in parts
    this.tail = '';       // the last 3 scanned characters (a separator may straddle chunks)
    this.reading = new UsageReading();
    this.terminal = '';   // the withheld terminal event
    this.sawDone = false;
    this.malformed = 0;
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
    let out = '';
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
        break;
      }
      // The scanned tail held no separator, so this one ends inside `text`.
      const end = m.index + m[0].length - this.tail.length;
      if (this.size + end > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
      const event = this.parts.length ? this.parts.join('') + text.slice(0, end) : text.slice(0, end);
      this.parts = [];
      this.size = 0;
      this.tail = '';
      text = text.slice(end);
      out += this.inspect(event);
    }
    return out;
  }

  // Whatever is left when the upstream ends (an unterminated last event is forwarded as-is).
  flush() {
    const rest = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.tail = '';
    return rest;
  }

  // The text of one event to forward ('' to hold it back or drop it).
  inspect(event) {
    const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
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
    if (this.dialect === 'anthropic') {
      if (obj.type === 'message_stop') {
        this.sawDone = true;
        this.terminal += event;
        return '';
      }
      const u = obj.type === 'message_start' ? obj.message && obj.message.usage : obj.usage;
      if (u !== undefined) this.reading.read('anthropic', u);
      return event;
    }
    if (obj.usage !== undefined && obj.usage !== null) {
      this.reading.read('openai', obj.usage);
      if (this.dropUsageChunk && Array.isArray(obj.choices) && obj.choices.length === 0) return '';
    }
    return event;
  }
}

module.exports = { SseUsageTap, SseEventTooLarge, DEFAULT_MAX_EVENT };
