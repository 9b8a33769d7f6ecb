// The catalog file's single owner in the process. Every write (balance polls, header capture)
// goes through one queue, lands atomically (unique temp file in the same directory, fsync,
// rename, fsync of the directory), keeps the envelope, _notes and unknown fields, and stamps
// generated_at. The file is watched (mtime + content hash): an operator's edit is reloaded and
// merged (the poller's fields come from the poll, everything else from the operator, and a field
// the operator just changed is never overwritten by a stale poll value); an invalid edit is
// rejected with a log line, the last good catalog stays in force and the file is left as written.
//
// Files the operator edits (every reader parses with json-text.js: a BOM is accepted, NULs and
// deep nesting are rejected with the file named; nothing in the watcher can throw):
//  - a symlinked catalog is written through to its target (the link stays);
//  - an edit is never lost to a concurrent write: just before the rename the file must still be
//    what the write was merged from (else the write starts over from the edit), and the inode
//    being replaced is kept under a hard link (.NAME.replaced) so that an edit that lands between
//    that check and the rename (a rename-save, or an in-place save into the old inode) is found
//    afterwards and merged in. The one window left is an editor's rename in the microseconds
//    between our link() and rename() calls.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { writeAtomic, resolveTarget } = require('./atomic-write');
const { parseJsonText } = require('./json-text');

const hash = (text) => crypto.createHash('sha256').update(text).digest('hex');
const MAX_WRITE_TRIES = 5;

class EditRace extends Error {}


class CatalogStore {
  // validate(text) -> null or an error string (the engine's parser); apply(text) loads it into the engine.
  // hooks.beforeRename(tmp, target) / hooks.afterCheck(target): test seams (an edit that lands
  // before, or after, the compare-and-swap check of a write).
  constructor({ file, validate, apply, log, now = () => new Date(), hooks = {} }) {
    Object.assign(this, { file, validate, apply, log, now, hooks });
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
    this.doc = parseJsonText(text, this.file);
    this.lastHash = hash(text);
    this.apply(JSON.stringify(this.doc));
    this.error = null;
    return null;
  }

  // Picks up an operator's edit if the file changed (and one caught under the .replaced link);
  // never throws: any failure is one log line and the last good catalog stays in force.
  reloadIfChanged() {
    try {
      this.checkReplaced();
      let text;
      try {
        text = fs.readFileSync(this.file, 'utf8');
      } catch (err) {
        return;  // a missing file mid-save: keep what we have
      }
      this.takeOperatorText(text);
    } catch (err) {
      this.log?.error({ file: this.file, err: err.message }, 'catalog reload failed; the last good catalog stays in force');
    }
  }

  // An operator's text (from the file or from an inode our write replaced): validated, merged with
  // the poller's latest fields and applied; an invalid one is logged once and left alone.
  takeOperatorText(text, { fromReplaced = false } = {}) {
    const h = hash(text);
    if (h === this.lastHash) return;
    const err = this.validate(text);
    if (err) {
      if (this.error !== err) this.log?.error({ file: this.file, error: err }, 'catalog edit rejected; the last good catalog stays in force');
      this.error = err;
      if (!fromReplaced) this.lastHash = h;  // do not re-log the same bad content; the file stays as the operator wrote it
      return;
    }
    const operator = parseJsonText(text, this.file);
    this.doc = this.mergeOperatorEdit(operator);
    if (!fromReplaced) this.lastHash = h;
    else this.pendingRewrite = true;  // the edit is in memory only: the next write puts it back in the file
    this.error = null;
    const merged = JSON.stringify(this.doc, null, 2) + '\n';
    this.apply(merged);
    this.log?.info({ file: this.file, ...(fromReplaced ? { caught: 'an edit saved while quotagate wrote the file' } : {}) }, 'catalog reloaded after an edit');
  }

  replacedLink() {
    const target = resolveTarget(fs, this.file);
    return path.join(path.dirname(target), `.${path.basename(target)}.replaced`);
  }

  // The inode our last write replaced: if someone wrote into it (or renamed theirs in) after our
  // check, its text is an operator's edit that the file no longer shows.
  checkReplaced() {
    if (!this.replaced) return;
    const { link, based } = this.replaced;
    this.replaced = null;
    let text = null;
    try {
      text = fs.readFileSync(link, 'utf8');
    } catch { /* gone */ }
    try {
      fs.rmSync(link, { force: true });
    } catch { /* best effort */ }
    if (text !== null && hash(text) !== based) this.takeOperatorText(text, { fromReplaced: true });
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
        for (let attempt = 1; ; attempt++) {
          const result = this.writeOnce(changes);
          if (result !== 'raced') return result;
          if (attempt >= MAX_WRITE_TRIES) return 'the catalog kept changing while it was written; the next write tries again';
        }
      } catch (err) {
        this.log?.error({ err: err.message }, 'catalog write failed; the previous file is intact');
        return err.message;
      }
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => {});
    return result;
  }

  // One merge-and-write. Returns null, an error string, or 'raced' when an edit landed meanwhile.
  writeOnce(changes) {
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
    const based = this.lastHash;
    const link = this.replacedLink();
    try {
      writeAtomic(this.file, text, 0o644, {
        beforeRename: (tmp, target) => {
          if (this.hooks.beforeRename) this.hooks.beforeRename(tmp, target);
          let current = null;
          try {
            current = hash(fs.readFileSync(target, 'utf8'));
          } catch { /* missing: an editor mid-save */ }
          if (current !== based) throw new EditRace('the catalog changed while it was written');
          fs.rmSync(link, { force: true });
          try {
            fs.linkSync(target, link);
          } catch { /* a file system without hard links: the check above is all there is */ }
          if (this.hooks.afterCheck) this.hooks.afterCheck(target);
        },
      });
    } catch (e) {
      if (e instanceof EditRace) return 'raced';
      throw e;
    }
    this.replaced = { link, based };
    this.lastHash = hash(text);
    this.pendingRewrite = false;
    this.apply(text);
    this.checkReplaced();  // an edit that landed between the check and the rename
    return this.pendingRewrite ? 'raced' : null;
  }

  watch(intervalMs = 1000) {
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, () => this.reloadIfChanged());
    this.watcher = true;
  }

  // For tests and the dashboard: the catalog text in force.
  text() {
    return this.doc ? JSON.stringify(this.doc, null, 2) + '\n' : null;
  }

  close() {
    if (this.watcher) fs.unwatchFile(this.file);
    this.watcher = null;
  }
}

module.exports = { CatalogStore };
