// Codex's in-stream rate-limit reading: a Responses stream from the ChatGPT Codex backend carries
// `codex.rate_limits` events ({type, rate_limits: {primary, secondary, tertiary?}, credits?}; each
// window {used_percent 0..100, window_minutes, resets_at (epoch s) | reset_after_seconds |
// resets_in_seconds}; credits {has_credits, unlimited, balance}). They say what the
// x-codex-* response headers say, later in the answer, so they become those header lines and go
// through the same dialect in the engine (core/src/dialects/codex.cpp). Values are validated here:
// numbers finite, non-negative and bounded; anything else is left out.
'use strict';

const MAX_SECONDS = 400 * 86400;  // a reset farther out than a year is not a reset
const num = (v, max) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max ? v : null);

// Header lines ("x-codex-primary-used-percent: 40\n...") for one event object, or '' when it is
// not a codex.rate_limits event or says nothing usable.
function codexRateLimitLines(obj) {
  if (!obj || typeof obj !== 'object' || obj.type !== 'codex.rate_limits') return '';
  const limits = obj.rate_limits && typeof obj.rate_limits === 'object' ? obj.rate_limits : obj;
  const lines = [];
  for (const which of ['primary', 'secondary', 'tertiary']) {
    const w = limits[which];
    if (!w || typeof w !== 'object') continue;
    const pct = num(w.used_percent, 1e4);
    const minutes = num(w.window_minutes, 1e6);
    const at = num(w.resets_at, 1e11);
    const after = num(w.reset_after_seconds ?? w.resets_in_seconds, MAX_SECONDS);
    if (pct !== null) lines.push(`x-codex-${which}-used-percent: ${pct}`);
    if (minutes !== null) lines.push(`x-codex-${which}-window-minutes: ${minutes}`);
    if (at !== null) lines.push(`x-codex-${which}-reset-at: ${Math.round(at)}`);
    else if (after !== null) lines.push(`x-codex-${which}-reset-after-seconds: ${Math.round(after)}`);
  }
  const c = obj.credits && typeof obj.credits === 'object' ? obj.credits : limits.credits;
  if (c && typeof c === 'object') {
    if (typeof c.has_credits === 'boolean') lines.push(`x-codex-credits-has-credits: ${c.has_credits}`);
    if (typeof c.unlimited === 'boolean') lines.push(`x-codex-credits-unlimited: ${c.unlimited}`);
    const balance = num(typeof c.balance === 'string' ? Number(c.balance) : c.balance, 1e12);
    if (balance !== null) lines.push(`x-codex-credits-balance: ${balance}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

module.exports = { codexRateLimitLines };
