// Server-sent events pass-through with usage capture. Bytes are forwarded event by event exactly
// as the upstream sent them, except the OpenAI usage-only chunk, which is dropped when the client
// did not ask for it (we ask upstream on its behalf so that streamed usage is counted).
'use strict';

class SseUsageTap {
  constructor({ dialect, dropUsageChunk }) {
    this.dialect = dialect;  // 'openai' | 'anthropic'
    this.dropUsageChunk = dropUsageChunk;
    this.buffer = '';
    this.usage = { tokens_in: 0, tokens_out: 0, cost: null };
    this.sawDone = false;
    this.malformed = 0;
  }

  // Returns the text to forward now (complete events only; a partial event waits for more bytes).
  push(chunkText) {
    this.buffer += chunkText;
    let out = '';
    let idx;
    while ((idx = this.buffer.search(/\r?\n\r?\n/)) !== -1) {
      const sep = this.buffer.slice(idx).match(/^\r?\n\r?\n/)[0];
      const event = this.buffer.slice(0, idx + sep.length);
      this.buffer = this.buffer.slice(idx + sep.length);
      if (this.inspect(event)) out += event;
    }
    return out;
  }

  // Whatever is left when the upstream ends (an unterminated last event is forwarded as-is).
  flush() {
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }

  inspect(event) {
    const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data) return true;
    if (data === '[DONE]') {
      this.sawDone = true;
      return true;
    }
    let obj;
    try {
      obj = JSON.parse(data);
    } catch {
      this.malformed++;
      return true;  // not ours to judge: pass it through
    }
    if (this.dialect === 'anthropic') {
      const u = obj.type === 'message_start' ? obj.message && obj.message.usage : obj.usage;
      if (u) {
        if (Number.isFinite(u.input_tokens)) this.usage.tokens_in = u.input_tokens;
        if (Number.isFinite(u.output_tokens)) this.usage.tokens_out = u.output_tokens;
      }
      return true;
    }
    if (obj && obj.usage) {
      if (Number.isFinite(obj.usage.prompt_tokens)) this.usage.tokens_in = obj.usage.prompt_tokens;
      if (Number.isFinite(obj.usage.completion_tokens)) this.usage.tokens_out = obj.usage.completion_tokens;
      if (Number.isFinite(obj.usage.cost)) this.usage.cost = obj.usage.cost;
      if (this.dropUsageChunk && Array.isArray(obj.choices) && obj.choices.length === 0) return false;
    }
    return true;
  }
}

module.exports = { SseUsageTap };
