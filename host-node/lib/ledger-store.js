// Durable usage ledger on sql.js (SQLite in memory), made durable by us:
//  - every event is appended to journal.jsonl before the client's response completes, so a kill -9
//    at any moment loses nothing the client received (the OS holds it). Appends are group-committed
//    (journal-writer.js): one write() per event-loop turn, and the proxy completes a response only
//    after durable() resolves. ledger.fsync: true adds one fdatasync per such write for power-loss
//    durability;
//  - events are stored in SQLite segment files of at most `segmentEvents` rows. Only the newest
//    segment is open; a checkpoint inserts the pending events in one transaction, exports that one
//    segment and writes it atomically (unique temp file, fsync, rename, fsync of the directory),
//    then empties the journal, all in one synchronous step. Memory and checkpoint time are bounded
//    by the segment size, not by the history;
//  - on open, segments within retention are read (to seed the engine) and the journal is replayed,
//    deduplicated by event id, so a torn last journal line from a crash is the only thing skipped;
//  - exactly once under faults: every event is validated before it is queued (validEvent: a
//    value SQLite cannot bind can never wedge a checkpoint), a checkpoint that fails at any step
//    (insert, export, write, rename, roll-over, truncation) rolls back its transaction and leaves
//    the journal as it was, so the next checkpoint (or the replay after a restart, deduplicated by
//    id against the segments) stores each event once. Write failures make health() degraded with
//    the reason until a write succeeds.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { writeAtomic } = require('./atomic-write');
const { JournalWriter } = require('./journal-writer');
const initSqlJs = require('sql.js');

const DAY_MS = 86400000;
// tokens_cached (cached input tokens, inside tokens_in) and account (the provider account that
// served the request: a credential fingerprint or a configured account name, never a credential)
// arrived after the first segments were written: a segment without them gets them (default 0,
// '') when it is opened.
const SCHEMA = `CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, ts INTEGER NOT NULL, provider_id TEXT NOT NULL, model TEXT NOT NULL,
  status INTEGER NOT NULL, cost REAL NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
  tokens_cached INTEGER NOT NULL DEFAULT 0, account TEXT NOT NULL DEFAULT '');`;
const COLUMNS = 'id, ts, provider_id, model, status, cost, tokens_in, tokens_out, tokens_cached, account';

// Brings an opened segment to the current schema.
function migrate(db) {
  db.run(SCHEMA);
  const cols = db.exec('PRAGMA table_info(events)')[0].values.map((r) => r[1]);
  if (!cols.includes('tokens_cached')) db.run('ALTER TABLE events ADD COLUMN tokens_cached INTEGER NOT NULL DEFAULT 0');
  if (!cols.includes('account')) db.run("ALTER TABLE events ADD COLUMN account TEXT NOT NULL DEFAULT ''");
}
const SEGMENT_RE = /^segment-(\d{10})\.sqlite$/;

let sqlPromise = null;
const loadSql = () => (sqlPromise ??= initSqlJs());

const MAX_ID = 200;
const MAX_TEXT = 1024;
const MAX_COUNT = 1e12;
const ACCOUNT_ID = /^[A-Za-z0-9._:-]{1,64}$/;  // a fingerprint (12 hex digits) or a configured account name  // tokens or USD: far beyond any real request, well inside a double's integers

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


class LedgerStore {
  // io: an fs-like object for every write of the ledger (tests inject ENOSPC, short writes and
  // failed renames through it); reads use node:fs.
  constructor({ dir, retentionDays = 35, fsync = false, segmentEvents = 10000, log = null, io = fs }) {
    this.dir = dir;
    this.io = io;
    this.writeError = null;  // { at, what, message } of the last failed ledger write, until one succeeds
    this.retentionMs = retentionDays * DAY_MS;
    this.segmentEvents = segmentEvents;
    this.log = log;
    this.current = null;    // { seq, db, insert, count, dirty }
    this.segments = [];     // [{ seq, maxTs }] of closed segments, for pruning
    this.journalFd = null;
    // One log line per 10 s at most while writes fail (a full disk fails every request).
    let lastLogged = 0, suppressed = 0;
    this.journal = new JournalWriter({ fsync, io, onError: (err) => {
      const now = Date.now();
      if (now - lastLogged < 10000) {
        suppressed++;
        return;
      }
      log?.error({ file: this.journalPath, err: err.message, ...(suppressed ? { suppressed } : {}) }, 'journal write failed; requests are refused until it can be written');
      lastLogged = now;
      suppressed = 0;
    } });
    this.journalPath = path.join(dir, 'journal.jsonl');
    this.pending = [];      // events appended since the last checkpoint
    this.backlog = { events: Infinity, handler: null };  // see onBacklog()
    this.lastCheckpointMs = 0;
    this.backend = 'sqljs';
  }

  segmentFile(seq) {
    return path.join(this.dir, `segment-${String(seq).padStart(10, '0')}.sqlite`);
  }

  // Opens the store and returns every retained event in time order (to seed the engine).
  async open(nowMs = Date.now()) {
    this.SQL = await loadSql();
    fs.mkdirSync(this.dir, { recursive: true });
    const events = [];
    const cutoff = nowMs - this.retentionMs;
    let lastSeq = 0;
    for (const name of fs.readdirSync(this.dir).sort()) {
      if (name.endsWith('.tmp')) {
        fs.rmSync(path.join(this.dir, name), { force: true });  // a checkpoint torn by a crash
        continue;
      }
      const m = SEGMENT_RE.exec(name);
      if (!m) continue;
      const seq = Number(m[1]);
      lastSeq = Math.max(lastSeq, seq);
      const db = this.readSegment(seq);
      if (!db) continue;
      const rows = db.exec(`SELECT ${COLUMNS} FROM events`);
      const count = rows.length ? rows[0].values.length : 0;
      let maxTs = -Infinity;
      if (rows.length) for (const r of rows[0].values) {
        maxTs = Math.max(maxTs, r[1]);
        if (r[1] > cutoff) events.push(rowToEvent(r));
      }
      if (count && maxTs <= cutoff) {
        db.close();
        fs.rmSync(this.segmentFile(seq), { force: true });  // wholly past retention
        continue;
      }
      this.segments.push({ seq, maxTs });
      db.close();
    }
    // Continue in the newest segment if it has room, else start a new one.
    const newest = this.segments[this.segments.length - 1];
    if (newest && newest.seq === lastSeq) {
      const db = this.readSegment(lastSeq);
      const count = db.exec('SELECT COUNT(*) FROM events')[0].values[0][0];
      if (count < this.segmentEvents) {
        this.segments.pop();
        this.current = this.wrap(lastSeq, db, count);
      } else {
        db.close();
      }
    }
    if (!this.current) this.current = this.wrap(lastSeq + 1, this.newDb(), 0);
    const known = new Set(events.map((e) => e.id));
    const replayed = this.replayJournal(known, events);
    this.journalFd = this.io.openSync(this.journalPath, 'a');
    this.journal.setFd(this.journalFd);
    // Replayed events move into the segments, and a torn line left by a crash is cut away, so a
    // line appended now never joins it. On a disk that is still full the checkpoint fails: the
    // journal stays as it is (every event in it is already safe), the store starts degraded, and
    // the next checkpoint retries; a newline is queued first so that no new line joins a torn one.
    if (replayed > 0 || this.journalHadContent) {
      try {
        this.checkpoint();
      } catch (err) {
        this.log?.error({ err: err.message }, 'ledger checkpoint at start failed; serving degraded, the journal keeps the events');
        if (!this.journalEndsClean) this.journal.append('\n');
      }
    }
    events.sort((a, b) => a.ts - b.ts);
    return events;
  }

  newDb() {
    const db = new this.SQL.Database();
    db.run(SCHEMA);
    return db;
  }

  readSegment(seq) {
    const file = this.segmentFile(seq);
    try {
      const db = new this.SQL.Database(fs.readFileSync(file));
      migrate(db);
      return db;
    } catch (err) {
      // Never destroy data: move an unreadable file aside.
      const aside = `${file}.corrupt-${Date.now()}`;
      fs.renameSync(file, aside);
      this.log?.error({ file, aside, err: err.message }, 'ledger segment unreadable; moved aside');
      return null;
    }
  }

  wrap(seq, db, count) {
    return { seq, db, insert: db.prepare(`INSERT OR IGNORE INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), count, dirty: false };
  }

  replayJournal(known, events) {
    if (!fs.existsSync(this.journalPath)) return 0;
    const lines = fs.readFileSync(this.journalPath, 'utf8').split('\n');
    let replayed = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        // Only a write torn by a crash can be partial, and that response was never completed.
        this.log?.warn({ line: i + 1, file: this.journalPath }, 'skipping torn journal line');
        return;
      }
      const why = [];
      const clean = validEvent(e, why);
      if (why.length) this.log?.warn({ line: i + 1, file: this.journalPath, fields: why }, clean ? 'journal line with invalid numbers; kept with them as 0' : 'journal line is not a usage event; skipped');
      if (!clean || known.has(clean.id)) return;
      known.add(clean.id);
      this.pending.push(clean);
      events.push(clean);
      replayed++;
    });
    this.journalHadContent = lines.some((l) => l.trim());
    this.journalEndsClean = lines[lines.length - 1] === '';
    return replayed;
  }

  // Queues the event for the journal and the next checkpoint; it is durable once durable() resolves.
  // Numbers that SQLite or the engine cannot take are stored as 0 and logged (validEvent).
  append(event) {
    const why = [];
    const e = validEvent({ ...event, id: event.id || crypto.randomUUID() }, why);
    if (!e) throw new Error(`usage event rejected: invalid ${why.join(', ')}`);
    if (why.length) this.log?.warn({ id: e.id, provider: e.provider_id, fields: why }, 'usage event with invalid numbers; stored with them as 0');
    this.journal.append(`${JSON.stringify(e)}\n`);
    this.pending.push(e);
    if (this.pending.length === this.backlog.events && this.backlog.handler) this.backlog.handler();
    return e;
  }

  // handler() is called (synchronously, from append) when `events` events await a checkpoint.
  onBacklog(events, handler) {
    this.backlog = { events, handler };
  }

  // Resolves once every event appended so far is in the journal file (now: see JournalWriter).
  durable(now = false) {
    return this.journal.durable(now);
  }

  // Moves pending events into SQLite and writes what changed atomically, then empties the journal.
  // Synchronous on purpose: no event can be appended between the export and the truncation.
  // Returns the milliseconds it took. Throws the first failure after undoing what it did in
  // memory; the journal then still holds every pending event and the next call retries them.
  checkpoint() {
    const t0 = process.hrtime.bigint();
    try {
      if (this.journalFd !== null) this.journal.flush();  // the file must hold what is queued before it is emptied
      let i = 0;
      while (i < this.pending.length) {
        const seg = this.current;
        if (seg.count >= this.segmentEvents) {
          this.rollOver();
          i = 0;  // rollOver() removed the closed segment's events from pending
          continue;
        }
        const take = Math.min(this.pending.length - i, this.segmentEvents - seg.count);
        seg.db.run('BEGIN');
        let added = 0;
        try {
          for (let k = 0; k < take; k++) {
            const e = this.pending[i + k];
            seg.insert.run([e.id, e.ts, e.provider_id, e.model, e.status, e.cost, e.tokens_in, e.tokens_out, e.tokens_cached, e.account || '']);
            added += seg.db.getRowsModified();
          }
          seg.db.run('COMMIT');
        } catch (err) {
          seg.db.run('ROLLBACK');
          throw err;
        }
        seg.count += added;  // INSERT OR IGNORE: a retried event is not counted twice
        seg.dirty = seg.dirty || added > 0;
        i += take;
      }
      if (this.current.count >= this.segmentEvents) this.rollOver();
      if (this.current.dirty) {
        writeAtomic(this.segmentFile(this.current.seq), this.current.db.export(), 0o644, { io: this.io });
        this.current.dirty = false;
      }
      if (this.journalFd !== null) {
        this.io.ftruncateSync(this.journalFd, 0);
        this.io.fsyncSync(this.journalFd);
      }
    } catch (err) {
      this.writeError = { at: Date.now(), what: 'checkpoint', message: `ledger checkpoint failed: ${err.code || err.message}` };
      throw err;
    }
    this.pending = [];
    if (this.writeError && this.writeError.what === 'checkpoint') this.writeError = null;
    this.lastCheckpointMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return this.lastCheckpointMs;
  }

  // Closes the full current segment (its file written first: on a failure it stays current and
  // dirty, and the next checkpoint tries again) and opens the next. The closed segment's events
  // leave `pending` (they may be there from a checkpoint that failed after inserting them), so
  // that no retry inserts them again into the next segment.
  rollOver() {
    const seg = this.current;
    if (seg.dirty || !fs.existsSync(this.segmentFile(seg.seq))) {
      writeAtomic(this.segmentFile(seg.seq), seg.db.export(), 0o644, { io: this.io });
      seg.dirty = false;
    }
    const has = seg.db.prepare('SELECT 1 FROM events WHERE id = ?');
    try {
      this.pending = this.pending.filter((e) => {
        has.bind([e.id]);
        const found = has.step();
        has.reset();
        return !found;
      });
    } finally {
      has.free();
    }
    const maxTs = seg.db.exec('SELECT MAX(ts) FROM events')[0].values[0][0];
    this.segments.push({ seq: seg.seq, maxTs });
    seg.insert.free();
    seg.db.close();
    this.current = this.wrap(seg.seq + 1, this.newDb(), 0);
  }

  // null when a usage event appended now can be made durable, else why not (the journal's last
  // write failed and writing what waits fails again). Streams ask before their first byte.
  writable() {
    if (this.journalFd === null) return 'the ledger is closed';
    if (!this.journal.lastError) return null;
    try {
      this.journal.flush();
      return null;
    } catch (err) {
      return `usage journal cannot be written (${err.code || err.message})`;
    }
  }

  // Deletes closed segments whose newest event is past retention (run periodically).
  prune(nowMs = Date.now()) {
    const cutoff = nowMs - this.retentionMs;
    this.segments = this.segments.filter((s) => {
      if (s.maxTs > cutoff) return true;
      fs.rmSync(this.segmentFile(s.seq), { force: true });
      return false;
    });
  }

  // The shared-state part of the ledger interface (PostgresLedger): one instance has nobody to
  // share with, so these do nothing.
  attach() {}
  shareSignal() {}
  shareBalance() {}
  health() {
    const journalError = this.journal.lastError;
    const reason = journalError ? `usage journal cannot be written (${journalError.code || journalError.message})`
      : this.writeError ? this.writeError.message : null;
    return { backend: 'sqljs', degraded: reason !== null, reason, pending_checkpoint: this.pending.length, last_checkpoint_ms: this.lastCheckpointMs };
  }

  // Checkpoints and closes. A checkpoint that fails here leaves the journal in place (nothing is
  // lost: the next open replays it); it is logged, and close() still succeeds.
  close() {
    if (this.journalFd === null) return;
    try {
      this.checkpoint();
    } catch (err) {
      this.log?.error({ err: err.message }, 'final ledger checkpoint failed; the journal keeps the events for the next start');
    }
    fs.closeSync(this.journalFd);
    this.journalFd = null;
    this.journal.setFd(null);
    this.current.insert.free();
    this.current.db.close();
  }
}

function rowToEvent(r) {
  return { id: r[0], ts: r[1], provider_id: r[2], model: r[3], status: r[4], cost: r[5], tokens_in: r[6], tokens_out: r[7], tokens_cached: r[8], account: r[9] || '' };
}

module.exports = { LedgerStore, validEvent };
