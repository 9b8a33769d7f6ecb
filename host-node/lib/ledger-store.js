// Durable usage ledger on sql.js (SQLite in memory), made durable by us:
//  - every event is appended to journal.jsonl (one write() per event) before the client's response
//    completes, so a kill -9 at any moment loses nothing the client received (the OS holds it);
//    ledger.fsync: true adds an fdatasync per event for power-loss durability;
//  - events also go into a per-UTC-day SQLite database; a checkpoint exports only the dirty days
//    (today, normally), writes each atomically (unique temp file, fsync, rename, fsync of the
//    directory), then empties the journal, all in one synchronous step;
//  - on open, day files within retention are loaded and the journal is replayed (deduplicated by
//    event id), so a torn last journal line from a crash is the only thing ever skipped.
// Day partitions keep checkpoints small: cost is proportional to today's events, not the history.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const initSqlJs = require('sql.js');

const DAY_MS = 86400000;
const SCHEMA = `CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, ts INTEGER NOT NULL, provider_id TEXT NOT NULL, model TEXT NOT NULL,
  status INTEGER NOT NULL, cost REAL NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);`;

let sqlPromise = null;
const loadSql = () => (sqlPromise ??= initSqlJs());

function dayKey(ts) {
  return new Date(Math.floor(ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

function writeAtomic(file, bytes) {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

class LedgerStore {
  constructor({ dir, retentionDays = 35, fsync = false, log = null }) {
    this.dir = dir;
    this.retentionMs = retentionDays * DAY_MS;
    this.fsync = fsync;
    this.log = log;
    this.days = new Map();  // 'YYYY-MM-DD' -> { db, insert, dirty }
    this.journalFd = null;
    this.journalPath = path.join(dir, 'journal.jsonl');
    this.pending = [];      // events appended since the last checkpoint, inserted in one transaction
    this.lastCheckpointMs = 0;
  }

  // Opens the store and returns every retained event in time order (to seed the engine).
  async open(nowMs = Date.now()) {
    this.SQL = await loadSql();
    fs.mkdirSync(this.dir, { recursive: true });
    const events = [];
    const cutoff = nowMs - this.retentionMs;
    for (const name of fs.readdirSync(this.dir).sort()) {
      const m = /^(\d{4}-\d{2}-\d{2})\.sqlite$/.exec(name);
      if (!m) {
        if (name.endsWith('.tmp')) fs.rmSync(path.join(this.dir, name), { force: true });  // torn checkpoint
        continue;
      }
      const dayStart = Date.parse(`${m[1]}T00:00:00Z`);
      if (dayStart + DAY_MS <= cutoff) {
        fs.rmSync(path.join(this.dir, name), { force: true });  // past retention
        continue;
      }
      const day = this.openDay(m[1]);
      if (!day) continue;
      const rows = day.db.exec('SELECT id, ts, provider_id, model, status, cost, tokens_in, tokens_out FROM events ORDER BY ts');
      if (rows.length) for (const r of rows[0].values) events.push(rowToEvent(r));
      if (m[1] !== dayKey(nowMs)) this.closeDay(m[1]);
    }
    const replayed = this.replayJournal(events);
    this.journalFd = fs.openSync(this.journalPath, 'a');
    if (replayed > 0) this.checkpoint();
    events.sort((a, b) => a.ts - b.ts);
    return events.filter((e) => e.ts > cutoff);
  }

  openDay(key) {
    let day = this.days.get(key);
    if (day) return day;
    const file = path.join(this.dir, `${key}.sqlite`);
    let db;
    try {
      db = fs.existsSync(file) ? new this.SQL.Database(fs.readFileSync(file)) : new this.SQL.Database();
      db.run(SCHEMA);
    } catch (err) {
      // Never destroy data: move an unreadable file aside and start the day afresh.
      const aside = `${file}.corrupt-${Date.now()}`;
      if (fs.existsSync(file)) fs.renameSync(file, aside);
      this.log?.error({ file, aside, err: err.message }, 'ledger day file unreadable; moved aside');
      db = new this.SQL.Database();
      db.run(SCHEMA);
    }
    day = { db, insert: db.prepare('INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)'), dirty: false };
    this.days.set(key, day);
    return day;
  }

  closeDay(key) {
    const day = this.days.get(key);
    if (!day) return;
    day.insert.free();
    day.db.close();
    this.days.delete(key);
  }

  replayJournal(events) {
    if (!fs.existsSync(this.journalPath)) return 0;
    const known = new Set(events.map((e) => e.id));
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
      if (!e || typeof e.id !== 'string' || known.has(e.id)) return;
      known.add(e.id);
      this.insert(e);
      events.push(e);
      replayed++;
    });
    return replayed;
  }

  insert(e) {
    const day = this.openDay(dayKey(e.ts));
    day.insert.run([e.id, e.ts, e.provider_id, e.model, e.status, e.cost, e.tokens_in, e.tokens_out]);
    day.dirty = true;
  }

  flushPending() {
    if (!this.pending.length) return;
    const touched = new Set();
    for (const e of this.pending) {
      const key = dayKey(e.ts);
      if (!touched.has(key)) {
        this.openDay(key).db.run('BEGIN');
        touched.add(key);
      }
      this.insert(e);
    }
    for (const key of touched) this.days.get(key).db.run('COMMIT');
    this.pending = [];
  }

  // Durable once this returns: the event is in the journal (and in memory for the next checkpoint).
  append(event) {
    const e = { id: event.id || crypto.randomUUID(), ...event };
    const line = `${JSON.stringify(e)}\n`;
    fs.writeSync(this.journalFd, line);
    if (this.fsync) fs.fdatasyncSync(this.journalFd);
    this.pending.push(e);
    return e;
  }

  // Writes dirty day files atomically, then empties the journal. Synchronous on purpose: no event
  // can be appended between the export and the truncation. Returns the ms it took.
  checkpoint(nowMs = Date.now()) {
    const t0 = process.hrtime.bigint();
    this.flushPending();
    let written = 0;
    for (const [key, day] of this.days) {
      if (!day.dirty) continue;
      writeAtomic(path.join(this.dir, `${key}.sqlite`), day.db.export());
      day.dirty = false;
      written++;
    }
    if (this.journalFd !== null) {
      fs.ftruncateSync(this.journalFd, 0);
      if (written) fs.fsyncSync(this.journalFd);
    }
    const today = dayKey(nowMs);
    for (const key of [...this.days.keys()]) if (key !== today && !this.days.get(key).dirty) this.closeDay(key);
    this.lastCheckpointMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return this.lastCheckpointMs;
  }

  // Deletes day files past retention (run daily by the server).
  prune(nowMs = Date.now()) {
    const cutoff = nowMs - this.retentionMs;
    for (const name of fs.readdirSync(this.dir)) {
      const m = /^(\d{4}-\d{2}-\d{2})\.sqlite$/.exec(name);
      if (m && Date.parse(`${m[1]}T00:00:00Z`) + DAY_MS <= cutoff) {
        this.closeDay(m[1]);
        fs.rmSync(path.join(this.dir, name), { force: true });
      }
    }
  }

  close() {
    if (this.journalFd !== null) {
      this.checkpoint();
      fs.closeSync(this.journalFd);
      this.journalFd = null;
    }
    for (const key of [...this.days.keys()]) this.closeDay(key);
  }
}

function rowToEvent(r) {
  return { id: r[0], ts: r[1], provider_id: r[2], model: r[3], status: r[4], cost: r[5], tokens_in: r[6], tokens_out: r[7] };
}

module.exports = { LedgerStore, dayKey };
