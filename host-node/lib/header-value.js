// Response header values built from names the operator chose (provider, package and model ids
// from the config and the catalog). Node throws ERR_INVALID_CHAR on any character outside
// Latin-1 or on a control character, and a throw after the upstream has answered would turn a
// served request into a 500; so every such value goes through headerValue() first.
'use strict';

const PLAIN = /^[\x20-\x7e]*$/;
const MAX = 512;  // characters of one value

// Printable ASCII is kept as it is; anything else is percent-encoded as UTF-8 (RFC 3986), which
// is ASCII, reversible with decodeURIComponent, and cannot split or inject a header.
// Lone surrogates (a name cut mid-character) become U+FFFD first: encodeURIComponent throws on them.
function headerValue(value) {
  const v = String(value);
  if (v.length <= MAX && PLAIN.test(v)) return v;  // the common case, once per header per request
  const s = Array.from(v.toWellFormed()).slice(0, MAX).join('');
  return PLAIN.test(s) ? s : encodeURIComponent(s);
}

module.exports = { headerValue };
