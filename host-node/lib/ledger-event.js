// One usage event as the ledger keeps it: validEvent() checks every field of an event from
// outside (the proxy, a journal line, a segment summary) before it is queued, so that a value
// SQLite cannot bind or the engine cannot count never wedges a checkpoint; perSecondEvent() turns
// a segment's per-second row into the event that seeds the engine. Bounds: ids 200 characters,
// text 1,024, token counts and USD 1e12, account ids as accounts.js makes them.
'use strict';

const MAX_ID = 200;
const MAX_TEXT = 1024;
const MAX_COUNT = 1e12;  // tokens or USD: far beyond any real request, well inside a double's integers
const ACCOUNT_ID = /^[A-Za-z0-9._:-]{1,64}$/;  // a fingerprint (12 hex digits) or a configured account name

// A PER_SECOND_SQL row as a seeding event (see open()).
function perSecondEvent(r) {
  return { ts: r[0], provider_id: r[1], model: r[2], account: r[3] || '', status: r[4], count: r[5], cost: r[6], tokens_in: r[7], tokens_out: r[8] };
}

// A copy of `e` that SQLite can bind and the engine can count, or null with `why` filled when the
// event cannot be kept (no id, no time, no provider). Numbers that are not finite and
// non-negative become 0 and are named in `why` (the event is kept: the request itself counts).
function validEvent(e, why = []) {
  if (!e || typeof e !== 'object') {
    why.push('not an object');
    return null;
  }
  if (typeof e.id !== 'string' || !e.id || e.id.length > MAX_ID) why.push('id');
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || Math.abs(e.ts) > 8.64e15) why.push('ts');
  if (typeof e.provider_id !== 'string' || !e.provider_id || e.provider_id.length > MAX_TEXT) why.push('provider_id');
  if (why.length) return null;
  const num = (field, integer) => {
    const v = e[field];
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COUNT) return integer ? Math.round(v) : v;
    why.push(field);
    return 0;
  };
  const status = Number.isInteger(e.status) && e.status >= 0 && e.status <= 999 ? e.status : (why.push('status'), 0);
  return { id: e.id, ts: Math.round(e.ts), provider_id: e.provider_id, model: typeof e.model === 'string' ? e.model.slice(0, MAX_TEXT) : '',
    status, cost: num('cost', false), tokens_in: num('tokens_in', true), tokens_out: num('tokens_out', true), tokens_cached: num('tokens_cached', true),
    account: accountOf(e, why) };
}

// The event's account id: '' when absent; anything that is not an account id (a credential that
// found its way here would be) is dropped and named in `why`.
function accountOf(e, why) {
  if (e.account === undefined || e.account === null || e.account === '') return '';
  if (typeof e.account === 'string' && ACCOUNT_ID.test(e.account)) return e.account;
  why.push('account');
  return '';
}

module.exports = { validEvent, perSecondEvent };
