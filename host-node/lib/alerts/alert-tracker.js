// One alert target's memory of what it has been told: turns successive readings of the quotas
// document into transitions, each sent once. Every figure comes from the engine's document
// (alert, remaining, utilization of each window); this file only compares readings over time.
//
// A condition (a package in `exhausted`, a window past 80 %, a failing balance poll, a degraded
// ledger) fires when it turns true and its key is not active. The key stays active while the
// condition holds and for clear_after_s after it stops holding, so a value flapping across the
// line sends one message, not one per reading. Utilization thresholds use a band instead: a
// threshold re-arms only once utilization falls UTILIZATION_BAND points below it (or its window
// resets). min_interval_s bounds how often one key may send at all.
'use strict';
const { PACKAGE_EVENTS } = require('./alert-config');

const UTILIZATION_BAND = 5;  // percentage points below a threshold that re-arm it
const MAX_KEYS = 20000;      // keys kept per target (packages x windows x thresholds), oldest dropped

// "*" and "?" globs over package ids, anchored.
function globMatcher(globs) {
  const res = globs.map((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  return (id) => res.some((r) => r.test(id));
}

// The windows of a package with their utilization (0..1 of the limit), as the document states
// them: the primary window (window packages), secondary windows (a week beside a 5 h session)
// and model-family windows (weekly Opus).
function windowsOf(p) {
  const out = [];
  if (p.package_type !== 'credits' && p.total > 0) {
    out.push({ name: p.window_hours ? `${p.window_hours}h` : 'window', utilization: 1 - p.remaining_ratio, remaining: p.remaining, limit: p.total, reset_at: p.reset_at });
  }
  for (const w of p.secondary_windows || []) {
    if (w.limit > 0) out.push({ name: w.name, utilization: 1 - w.remaining_ratio, remaining: w.remaining, limit: w.limit, reset_at: w.reset_at });
  }
  for (const w of p.model_windows || []) {
    if (typeof w.utilization === 'number') out.push({ name: w.family, utilization: w.utilization, remaining: w.remaining ?? null, limit: w.limit ?? null, reset_at: w.reset_at ?? null });
  }
  return out.filter((w) => Number.isFinite(w.utilization));
}

function packageKey(p) {
  const account = p.account_id || p.account;  // the id: a display name may change
  return account ? `${p.package_id}@${account}` : p.package_id;
}

class AlertTracker {
  // target: a normalised alerts[] entry (alert-config.js).
  constructor(target) {
    this.target = target;
    this.wants = new Set(target.on);
    this.matches = globMatcher(target.packages);
    this.keys = new Map();  // key -> {active, false_since (ms|null), last_sent (ms|null)}
    this.suppressed = 0;    // fired while min_interval_s had not passed since the key's last message
  }

  // Returns the transitions of this reading: [{event, key, package (the document's entry) |
  // null, window?, threshold?, ledger?}]. doc: /api/quotas; now: ms since the epoch.
  evaluate(doc, now) {
    const out = [];
    const seen = new Set();
    for (const p of doc.packages || []) {
      if (!this.matches(p.package_id)) continue;
      const pk = packageKey(p);
      seen.add(`${pk}|recovered`);
      let cleared = null;
      let stillActive = false;
      let stateFired = false;
      for (const ev of PACKAGE_EVENTS) {
        if (!this.wants.has(ev)) continue;
        const key = `${pk}|${ev}`;
        seen.add(key);
        const r = this.step(key, p.alert === ev, now, this.target.clear_after_s * 1000);
        if (r === 'fire') out.push({ event: ev, key, package: p }), stateFired = true;
        if (r === 'clear') cleared = ev;
        stillActive = stillActive || Boolean(this.keys.get(key)?.active);
      }
      // Back to ok once every announced alert of the package has cleared (clear_after_s each): one
      // message, however many alerts the episode had.
      if (cleared && !stillActive && p.alert === 'ok' && this.wants.has('recovered')) {
        const rk = `${pk}|recovered`;
        if (!this.keys.has(rk)) this.keys.set(rk, { active: false, false_since: null, last_sent: null });
        out.push({ event: 'recovered', key: rk, package: p, from: cleared });
      }
      if (this.wants.has('utilization')) {
        for (const w of windowsOf(p)) {
          const pct = w.utilization * 100;
          let fired = null;
          // Highest first: a jump from 10 % to 96 % sends "95 %" once, and 80 % is marked sent too.
          for (const t of [...this.target.utilization].reverse()) {
            const key = `${pk}|utilization|${w.name}|${t}`;
            seen.add(key);
            const state = pct >= t ? true : pct < t - UTILIZATION_BAND ? false : null;  // null: in the band, no change
            const r = state === null ? 'hold' : this.step(key, state, now, 0, fired !== null);
            if (r === 'fire' && fired === null) fired = t;
          }
          // A package alert of the same reading (exhausted) says it already: one message, not two.
          if (fired !== null && !stateFired) out.push({ event: 'utilization', key: `${pk}|utilization|${w.name}|${fired}`, package: p, window: w, threshold: fired });
        }
      }
      if (this.wants.has('poll_failing')) {
        const key = `${pk}|poll_failing`;
        seen.add(key);
        if (this.step(key, Boolean(p.last_poll_error), now, this.target.clear_after_s * 1000) === 'fire') out.push({ event: 'poll_failing', key, package: p });
      }
    }
    if (this.wants.has('ledger_degraded')) {
      const key = 'ledger|ledger_degraded';
      seen.add(key);
      const ledger = doc.ledger || {};
      if (this.step(key, Boolean(ledger.degraded), now, this.target.clear_after_s * 1000) === 'fire') out.push({ event: 'ledger_degraded', key, package: null, ledger });
    }
    // Keys of packages no longer in the document are forgotten (a removed account, a catalog edit).
    for (const key of this.keys.keys()) if (!seen.has(key)) this.keys.delete(key);
    return out.filter((t) => this.admit(t.key, now));
  }

  // One key's reading: 'fire' when it turns active, 'clear' when it stops being active, 'hold'.
  // silent: turn active without firing (a lower threshold passed in the same jump).
  step(key, holds, now, clearMs, silent = false) {
    let k = this.keys.get(key);
    if (!k) {
      if (!holds) return 'hold';
      if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value);
      k = { active: false, false_since: null, last_sent: null };
      this.keys.set(key, k);
    }
    if (holds) {
      k.false_since = null;
      if (k.active) return 'hold';
      k.active = true;
      return silent ? 'hold' : 'fire';
    }
    if (!k.active) return 'hold';
    if (k.false_since === null) k.false_since = now;
    if (now - k.false_since < clearMs) return 'hold';
    k.active = false;
    k.false_since = null;
    return 'clear';
  }

  // min_interval_s: a key that sent less than that ago stays quiet (counted as suppressed).
  admit(key, now) {
    const k = this.keys.get(key);
    if (k && k.last_sent !== null && now - k.last_sent < this.target.min_interval_s * 1000) {
      this.suppressed++;
      if (k.untold) k.active = false;  // still owed: it fires again at a later reading
      return false;
    }
    if (k) k.last_sent = now, k.untold = false;
    return true;
  }

  // A message for `key` could not be delivered: the key is no longer active, so the next reading
  // where its condition holds fires it again (after min_interval_s, from its last attempt).
  untold(key) {
    const k = this.keys.get(key);
    if (k) k.active = false, k.false_since = null, k.untold = true;
  }

  // The memory as JSON (persisted so that a restart or a new leader does not resend).
  toJSON() {
    return { keys: [...this.keys.entries()] };
  }

  load(state) {
    if (!state || !Array.isArray(state.keys)) return;
    this.keys.clear();
    for (const entry of state.keys.slice(-MAX_KEYS)) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !entry[1] || typeof entry[1] !== 'object') continue;
      const v = entry[1];
      const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
      this.keys.set(entry[0], { active: v.active === true, false_since: num(v.false_since), last_sent: num(v.last_sent), untold: v.untold === true });
    }
  }
}

module.exports = { AlertTracker, windowsOf, packageKey, globMatcher, UTILIZATION_BAND };
