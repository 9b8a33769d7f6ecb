// The SQLite side of the ledger: the open segment (sql.js, in memory) and its file. store(events)
// inserts a batch in transactions of at most the segment's room, rolls a full segment over (its
// file written first, its events dropped from the rest of the batch so that no retry stores them
// twice), and writes the open segment atomically (atomic-write.js). Every write goes through `io`
// (tests inject faults). It runs inside the gateway's thread (inline) or alone in a worker thread
// (segment-worker.js), so that exporting a segment never holds the event loop that serves requests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const initSqlJs = require('sql.js');
const { writeAtomic } = require('./atomic-write');

// tokens_cached (cached input tokens, inside tokens_in) and account (the provider account that
// served the request: a credential fingerprint or a configured account name, never a credential)
// arrived after the first segments were written: a segment without them gets them (default 0,
// '') when it is opened.
const SCHEMA = `CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, ts INTEGER NOT NULL, provider_id TEXT NOT NULL, model TEXT NOT NULL,
  status INTEGER NOT NULL, cost REAL NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
  tokens_cached INTEGER NOT NULL DEFAULT 0, account TEXT NOT NULL DEFAULT '');`;
const COLUMNS = 'id, ts, provider_id, model, status, cost, tokens_in, tokens_out, tokens_cached, account';
const SEGMENT_RE = /^segment-(\d{10})\.sqlite$/;

// Brings an opened segment to the current schema.
function migrate(db) {
  db.run(SCHEMA);
  const cols = db.exec('PRAGMA table_info(events)')[0].values.map((r) => r[1]);
  if (!cols.includes('tokens_cached')) db.run('ALTER TABLE events ADD COLUMN tokens_cached INTEGER NOT NULL DEFAULT 0');
  if (!cols.includes('account')) db.run("ALTER TABLE events ADD COLUMN account TEXT NOT NULL DEFAULT ''");
}

let sqlPromise = null;
const loadSql = () => (sqlPromise ??= initSqlJs());

const segmentFile = (dir, seq) => path.join(dir, `segment-${String(seq).padStart(10, '0')}.sqlite`);

// Usage summed per UTC second, provider, model, account and status, the resolution the engine
// keeps (core/include/quotagate/usage_ledger.hpp), for events after the cutoff (ms, > 0): rows of
// [second start (ms), provider_id, model, account, status, count, cost, tokens_in, tokens_out].
const PER_SECOND_SQL = `SELECT (ts / 1000) * 1000 AS sec, provider_id, model, account, status, COUNT(*), SUM(cost), SUM(tokens_in), SUM(tokens_out)
  FROM events WHERE ts > ? GROUP BY sec, provider_id, model, account, status ORDER BY sec`;

// A closed segment's per-second sums, beside it: {v: 1, count, minTs, maxTs, rows (PER_SECOND_SQL)}.
// Written once the segment is full and written (it never changes after that), so that a start
// reads these few KB instead of opening every segment. Derived data: a start that finds it
// missing or invalid reads the segment itself.
const summaryFile = (dir, seq) => path.join(dir, `segment-${String(seq).padStart(10, '0')}.seconds.json`);

function writeSummary(db, dir, seq, io = fs) {
  const [count, minTs, maxTs] = db.exec('SELECT COUNT(*), MIN(ts), MAX(ts) FROM events')[0].values[0];
  const r = db.exec(PER_SECOND_SQL, [0]);
  writeAtomic(summaryFile(dir, seq), JSON.stringify({ v: 1, count, minTs, maxTs, rows: r.length ? r[0].values : [] }), 0o644, { io });
}

function rowToEvent(r) {
  return { id: r[0], ts: r[1], provider_id: r[2], model: r[3], status: r[4], cost: r[5], tokens_in: r[6], tokens_out: r[7], tokens_cached: r[8], account: r[9] || '' };
}

// A segment file as a database, or null when it cannot be read (then moved aside: never destroyed).
function readSegment(SQL, dir, seq, log) {
  const file = segmentFile(dir, seq);
  try {
    const db = new SQL.Database(fs.readFileSync(file));
    migrate(db);
    return db;
  } catch (err) {
    const aside = `${file}.corrupt-${Date.now()}`;
    fs.renameSync(file, aside);
    log?.error({ file, aside, err: err.message }, 'ledger segment unreadable; moved aside');
    return null;
  }
}

class SegmentStore {
  // dir: the ledger dir; segmentEvents: rows per segment; io: fs-like for every write.
  constructor({ dir, segmentEvents = 10000, io = fs, log = null }) {
    Object.assign(this, { dir, segmentEvents, io, log });
    this.current = null;  // { seq, db, insert, count, dirty }
    this.skip = null;     // ids already stored in closed segments (after a worker restart), or null
    // Ids of the segments closed since the caller last confirmed a batch (confirm()): a batch is
    // retried whole until its journal is gone (a store that succeeds but whose journal could not be
    // dropped is retried too), and its events that a closed segment holds must not enter the next.
    this.closedSinceOk = [];
  }

  // seq: the segment to continue (its file is read when it exists and has room) or, when it is
  // full or absent, the one before the first new segment. skipIds: ids stored in closed segments
  // that a batch may repeat (a restarted worker's re-sent events).
  async open(seq, { skipIds = null } = {}) {
    this.SQL = await loadSql();
    let db = fs.existsSync(segmentFile(this.dir, seq)) ? readSegment(this.SQL, this.dir, seq, this.log) : null;
    const count = db ? db.exec('SELECT COUNT(*) FROM events')[0].values[0][0] : 0;
    if (db && count >= this.segmentEvents) {
      db.close();
      db = null;
      seq += 1;
    } else if (!db && fs.existsSync(segmentFile(this.dir, seq))) {
      seq += 1;  // moved aside: never written over
    }
    // A segment continued (not full, as when segmentEvents grew) is no longer what its summary says.
    if (db) fs.rmSync(summaryFile(this.dir, seq), { force: true });
    this.current = this.wrap(seq, db || this.newDb(), db ? count : 0);
    this.skip = skipIds && skipIds.size ? skipIds : null;
  }

  newDb() {
    const db = new this.SQL.Database();
    db.run(SCHEMA);
    return db;
  }

  // The open segment lives in sql.js's in-memory file system; its durability is the segment file
  // (written atomically) and the journal, never SQLite's own journal or syncs. Exclusive locking
  // and an in-memory rollback journal spare every statement the emulated file calls (lock, hot
  // journal check, journal file writes) while ROLLBACK still undoes a failed batch.
  wrap(seq, db, count) {
    db.run('PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;');
    return { seq, db, insert: db.prepare(`INSERT OR IGNORE INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), count, dirty: false };
  }

  // Stores `events` (validated usage events); returns { closed: [{seq, maxTs}] } for the segments
  // it rolled over. Throws the first failure after rolling back its transaction: what was stored
  // before the failure stays (INSERT OR IGNORE makes the retry of the whole batch exact).
  store(events) {
    const known = [...(this.skip ? [this.skip] : []), ...this.closedSinceOk];
    let pending = known.length ? events.filter((e) => !known.some((s) => s.has(e.id))) : events;
    const closed = this.closedAcc ??= [];
    let i = 0;
    while (i < pending.length) {
      const seg = this.current;
      if (seg.count >= this.segmentEvents) {
        const rest = this.rollOver(pending, closed);
        pending = rest;
        i = 0;
        continue;
      }
      const take = Math.min(pending.length - i, this.segmentEvents - seg.count);
      seg.db.run('BEGIN');
      let added = 0;
      try {
        for (let k = 0; k < take; k++) {
          const e = pending[i + k];
          seg.insert.run([e.id, e.ts, e.provider_id, e.model, e.status, e.cost, e.tokens_in, e.tokens_out, e.tokens_cached || 0, e.account || '']);
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
    if (this.current.count >= this.segmentEvents) this.rollOver([], closed);
    if (this.current.dirty) {
      writeAtomic(segmentFile(this.dir, this.current.seq), this.current.db.export(), 0o644, { io: this.io });
      this.current.dirty = false;
    }
    this.closedAcc = [];
    return { closed };
  }

  // Every batch stored so far is off the journal: no retry can repeat its events any more.
  confirm() {
    this.closedSinceOk = [];
  }

  // Closes the full current segment (its file written first: on a failure it stays current and
  // dirty, and the next store tries again) and opens the next. Returns `rest` without the events
  // the closed segment holds (they may be there from a batch that failed after inserting them),
  // so that no retry inserts them again into the next segment.
  rollOver(rest, closed) {
    const seg = this.current;
    if (seg.dirty || !fs.existsSync(segmentFile(this.dir, seg.seq))) {
      writeAtomic(segmentFile(this.dir, seg.seq), seg.db.export(), 0o644, { io: this.io });
      seg.dirty = false;
    }
    try {
      writeSummary(seg.db, this.dir, seg.seq, this.io);
    } catch (err) {
      this.log?.warn({ seq: seg.seq, err: err.code || err.message }, 'ledger segment summary not written; a start reads the segment instead');
    }
    // One read of the closed segment's ids, then set lookups: a statement step per event is an
    // autocommit read transaction through sql.js's emulated file system (~100 us each).
    const ids = seg.db.exec('SELECT id FROM events');
    const stored = new Set(ids.length ? ids[0].values.map((r) => r[0]) : []);
    const left = rest.filter((e) => !stored.has(e.id));
    const maxTs = seg.db.exec('SELECT MAX(ts) FROM events')[0].values[0][0];
    this.closedSinceOk.push(stored);
    closed.push({ seq: seg.seq, maxTs });
    seg.insert.free();
    seg.db.close();
    this.current = this.wrap(seg.seq + 1, this.newDb(), 0);
    return left;
  }

  close() {
    if (!this.current) return;
    this.current.insert.free();
    this.current.db.close();
    this.current = null;
  }
}

module.exports = { SegmentStore, SCHEMA, COLUMNS, SEGMENT_RE, PER_SECOND_SQL, migrate, loadSql, segmentFile, summaryFile, readSegment, rowToEvent };
