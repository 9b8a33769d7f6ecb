// Persisted provider readings: the latest rate-limit answer of each (provider, account, scope) (scope:
// "" for an answer's readings, "account" or "family:<name>" for a refusal that cooled that scope,
// so that a later success does not hide an earlier family rejection), kept in
// <ledger dir>/readings.json so that a restart knows what the provider last said (windows,
// overage, cooldowns) before its next answer, not only what the ledger counted. Entries hold the
// header lines and at most 4 KB of body after redaction (never a credential), the account id
// (never a credential) and the model. Written atomically at most every `intervalMs` when changed,
// and on close, off the event loop (writeAtomicAsync: its fsyncs held the loop 2.5-4.5 ms every
// 5 s under load), one write at a time; a bad file is reported and ignored (the ledger still
// re-seeds usage).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { writeAtomicAsync } = require('./atomic-write');
const { parseJsonText } = require('./json-text');

const FILE = 'readings.json';
const MAX_ENTRIES = 1000;
const MAX_BODY = 4096;
const MAX_HEADERS = 16384;
const KEEP_MS = 8 * 86400000;  // longer than the longest window (7 days)
const MAX_FILE = 8 * 1024 * 1024;  // MAX_ENTRIES of at most ~20 KB each, with room

class ReadingsStore {
  constructor({ dir, log = null, intervalMs = 5000, now = Date.now }) {
    Object.assign(this, { file: path.join(dir, FILE), log, now });
    this.entries = new Map();  // "provider\taccount" -> entry
    this.dirty = false;
    this.writing = null;  // the write under way (a promise), or null
    this.next = null;     // the write queued behind it, or null
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  // The readings kept, oldest first: [{provider, account, model, status, headers, body, ts}].
  load() {
    let doc;
    try {
      if (!fs.existsSync(this.file)) return [];
      const size = fs.statSync(this.file).size;
      if (size > MAX_FILE) throw new Error(`${size} bytes, more than ${MAX_FILE}`);
      doc = parseJsonText(fs.readFileSync(this.file, 'utf8'), this.file);
    } catch (err) {
      this.log?.warn({ file: this.file, err: err.message }, 'provider readings not restored');
      return [];
    }
    // The newest MAX_ENTRIES, whatever the file holds.
    const list = (Array.isArray(doc && doc.readings) ? doc.readings : []).filter((r) => r && Number.isFinite(r.ts))
      .sort((a, b) => b.ts - a.ts).slice(0, MAX_ENTRIES);
    const cutoff = this.now() - KEEP_MS;
    for (const r of list) {
      const ok = r && typeof r.provider === 'string' && r.provider.length <= 200 && typeof r.account === 'string' && r.account.length <= 64 &&
        typeof r.model === 'string' && r.model.length <= 256 && Number.isInteger(r.status) && r.status >= 0 && r.status <= 999 &&
        typeof r.headers === 'string' && r.headers.length <= MAX_HEADERS && typeof r.body === 'string' && r.body.length <= MAX_BODY &&
        Number.isFinite(r.ts) && r.ts > cutoff;
      if (ok && (r.scope === undefined || (typeof r.scope === 'string' && r.scope.length <= 80))) this.entries.set(`${r.provider}\t${r.account}\t${r.scope || ''}`, r);
    }
    return [...this.entries.values()].sort((a, b) => a.ts - b.ts);
  }

  // One answer the engine just learned from. Only answers that say something about quota are kept:
  // a recognised rate-limit dialect, or a 429. A refused credential (401, 403) is never kept: it
  // is no account, and junk credentials must not push real readings out.
  note({ provider, account = '', model = '', status, headers, body = '', dialect, scope = '', ts }) {
    if (status === 401 || status === 403) return;
    if (dialect === 'none' && status !== 429) return;
    // Decoded now, not kept as the Buffer: a small Buffer is a slice of an 8 KB pool slab, and up
    // to MAX_ENTRIES kept slices would pin as many slabs.
    const text = Buffer.isBuffer(headers) ? headers.toString('utf8') : String(headers || '');
    if (text.length > MAX_HEADERS) return;
    const key = `${provider}\t${account}\t${scope}`;
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) {
      let oldest = null;
      for (const [k, v] of this.entries) if (!oldest || v.ts < oldest[1].ts) oldest = [k, v];
      this.entries.delete(oldest[0]);
    }
    this.entries.set(key, { provider, account, scope, model: String(model).slice(0, 256), status, headers: text, body: String(body).slice(0, MAX_BODY), ts });
    this.dirty = true;
  }

  // Resolves when what was noted before the call is in the file (or its write failed: logged, and
  // retried at the next tick; the engine has the readings meanwhile). Never rejects.
  flush() {
    if (this.writing) {
      // One write at a time: this one starts when the running one ends, with what is noted by then.
      this.next ??= this.writing.then(() => {
        this.next = null;
        return this.flush();
      });
      return this.next;
    }
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    this.writing = writeAtomicAsync(this.file, JSON.stringify({ version: 1, readings: [...this.entries.values()] }), 0o600).catch((err) => {
      this.dirty = true;
      this.log?.warn({ file: this.file, err: err.code || err.message }, 'provider readings not saved');
    }).finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  // The last readings written; resolves when they are in the file.
  close() {
    clearInterval(this.timer);
    return this.flush();
  }
}

module.exports = { ReadingsStore };
