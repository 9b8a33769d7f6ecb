// JSON text from outside (request bodies, the catalog file) checked before it is parsed: one
// linear pass over the bytes finds the nesting depth (brackets outside strings), so a hostile
// document costs no more to reject than to parse, and nothing recursive ever sees 100k levels.
// parseJsonText() is the one parser every catalog reader uses (the gateway's watcher, `status`,
// `route`, the poller): it accepts a UTF-8 byte order mark (Notepad writes one) and names the file
// and the problem in its error.
'use strict';

const MAX_DEPTH = 64;

// The deepest nesting of `data` (Buffer, Uint8Array or string), stopping early once past `limit`.
// Unbalanced or malformed text is the parser's to reject; this only bounds the depth.
function jsonDepth(data, limit = Infinity) {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;             // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {  // [ {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

class JsonTextError extends Error {}

// Parses JSON text from `source` (a file name, for errors). Throws JsonTextError naming the source
// and the problem: nesting deeper than maxDepth, a NUL or other control byte outside strings
// (JSON allows only whitespace there), or invalid JSON.
function parseJsonText(text, source, { maxDepth = MAX_DEPTH } = {}) {
  let t = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
  const depth = jsonDepth(t, maxDepth);
  if (depth > maxDepth) throw new JsonTextError(`${source}: JSON nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(t);
  } catch (err) {
    const nul = t.indexOf('\u0000');
    const what = nul >= 0 ? `a NUL byte at offset ${nul}` : err.message;
    throw new JsonTextError(`${source}: invalid JSON (${what})`);
  }
}

// The text the engine should see for a document parseJsonText accepted (the BOM removed).
function withoutBom(text) {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

module.exports = { jsonDepth, parseJsonText, withoutBom, JsonTextError, MAX_DEPTH };
