// The catalog file's single owner in the process. Every write (balance polls, header capture)
// goes through one queue, lands atomically (unique temp file in the same directory, fsync,
// rename, fsync of the directory), keeps the envelope, _notes and unknown fields, and stamps
// generated_at. The file is watched (mtime + content hash): an operator's edit is reloaded and
// merged (the poller's fields come from the poll, everything else from the operator, and a field
// the operator just changed is never overwritten by a stale poll value); an invalid edit is
// rejected with a log line, the last good catalog stays in force and the file is left as written.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { writeAtomic } = require('./atomic-write');

const hash = (text) => crypto.createHash('sha256').update(text).digest('hex');


class CatalogStore {
  // validate(text) -> null or an error string (the engine's parser); apply(text) loads it into the engine.
  constructor({ file, validate, apply, log, now = () => new Date() }) {
    Object.assign(this, { file, validate, apply, log, now });
    this.doc = null;          // last good document
    this.lastHash = null;     // hash of what is on disk as we last saw or wrote it
    this.written = {};        // package id -> poller fields as we last wrote them
    this.queue = Promise.resolve();
    this.error = null;        // why the file on disk is not in force, if it is not
    this.watcher = null;
  }

  // Initial load. Returns the error string when the file is missing or invalid (nothing loaded).
  load() {
    let text;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      this.error = `${this.file}: cannot read catalog (${err.code || err.message})`;
      return this.error;
    }
    const err = this.validate(text);
    if (err) {
      this.error = err;
      return err;
    }
    this.doc = JSON.parse(text);
    this.lastHash = hash(text);
    this.apply(text);
    this.error = null;
    return null;
  }

  // Picks up an operator's edit if the file changed; never throws.
  reloadIfChanged() {
    let text;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      return;  // a missing file mid-save: keep what we have
    }
    const h = hash(text);
    if (h === this.lastHash) return;
    const err = this.validate(text);
    if (err) {
      if (this.error !== err) this.log?.error({ file: this.file, error: err }, 'catalog edit rejected; the last good catalog stays in force');
      this.error = err;
      this.lastHash = h;  // do not re-log the same bad content; the file stays as the operator wrote it
      return;
    }
    const operator = JSON.parse(text);
    this.doc = this.mergeOperatorEdit(operator);
    this.lastHash = h;
    this.error = null;
    const merged = JSON.stringify(this.doc, null, 2) + '\n';
    this.apply(merged);
    this.log?.info({ file: this.file }, 'catalog reloaded after an edit');
  }

  // Operator's file + the poller's latest values, except fields the operator changed in this edit.
  mergeOperatorEdit(operator) {
    const merged = operator;
    for (const [id, fields] of Object.entries(this.written)) {
      const entry = merged.packages && merged.packages[id];
      if (!entry || typeof entry !== 'object') continue;
      const before = this.doc && this.doc.packages && this.doc.packages[id] ? this.doc.packages[id] : {};
      for (const [k, v] of Object.entries(fields)) {
        const operatorChanged = JSON.stringify(entry[k]) !== JSON.stringify(before[k]);
        if (!operatorChanged) entry[k] = v;
        else delete this.written[id][k];  // the operator's word stands until the next poll
      }
    }
    return merged;
  }

  // Serialised write: fields is {packageId: {field: value}}. Resolves to null or an error string.
  update(changes) {
    const run = () => {
      try {
        this.reloadIfChanged();  // never write over an edit we have not seen
        if (!this.doc) return 'no valid catalog loaded';
        for (const [id, fields] of Object.entries(changes)) {
          const entry = this.doc.packages[id];
          if (!entry) continue;
          Object.assign(entry, fields);
          this.written[id] = { ...(this.written[id] || {}), ...fields };
        }
        this.doc.generated_at = this.now().toISOString();
        const text = JSON.stringify(this.doc, null, 2) + '\n';
        const err = this.validate(text);
        if (err) return `refusing to write an invalid catalog: ${err}`;
        if (this.error) {
          // The file on disk is an invalid edit: keep serving, but leave the operator's file alone.
          this.apply(text);
          return null;
        }
        writeAtomic(this.file, text);
        this.lastHash = hash(text);
        this.apply(text);
        return null;
      } catch (err) {
        this.log?.error({ err: err.message }, 'catalog write failed; the previous file is intact');
        return err.message;
      }
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => {});
    return result;
  }

  watch(intervalMs = 1000) {
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, () => this.reloadIfChanged());
    this.watcher = true;
  }

  close() {
    if (this.watcher) fs.unwatchFile(this.file);
    this.watcher = null;
  }
}

module.exports = { CatalogStore };
