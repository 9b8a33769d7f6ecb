// Durable usage ledger on sql.js (SQLite in memory), made durable by us:
//  - every event is appended to journal.jsonl before the client's response completes, so a kill -9
//    at any moment loses nothing the client received (the OS holds it). Appends are group-committed
//    (journal-writer.js): one write() per event-loop turn, and the proxy completes a response only
//    after durable() resolves. ledger.fsync: true adds one fdatasync per such write for power-loss
//    durability;
//  - events are stored in SQLite segment files of at most `segmentEvents` rows (segment-store.js).
//    Only the newest segment is open; a checkpoint inserts the pending events in one transaction,
//    exports that one segment and writes it atomically (unique temp file, fsync, rename, fsync of
//    the directory), then drops the journal that held them. Memory and checkpoint time are bounded
//    by the segment size, not by the history;
//  - with `worker: true` (the gateway) the segment lives in a worker thread (segment-worker.js):
//    a checkpoint seals the journal (renamed journal-<gen>.jsonl; new events go to a fresh
//    journal.jsonl) and hands the sealed file's name to the worker, which reads it; the sealed
//    file is deleted once the worker has written the segment. The event loop that serves requests
//    never exports a database. Without it (tools, tests) the same happens in one synchronous step;
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
const { JournalWriter } = require('./journal-writer');
const { SegmentStore, COLUMNS, SEGMENT_RE, PER_SECOND_SQL, loadSql, segmentFile, summaryFile, readSegment, rowToEvent } = require('./segment-store');

const DAY_MS = 86400000;
const JOURNAL_GEN_RE = /^journal-(\d{10})\.jsonl$/;
const WORKER_CALL_MS = Number(process.env.QG_LEDGER_WORKER_CALL_MS) || 120000;

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


class LedgerStore {
  // io: an fs-like object for every write of the ledger (tests inject ENOSPC, short writes and
  // failed renames through it); reads use node:fs. worker: keep the open segment in a worker
  // thread (checkpointAsync()); io must then be node:fs.
  constructor({ dir, retentionDays = 35, fsync = false, segmentEvents = 10000, log = null, io = fs, worker = false }) {
    this.dir = dir;
    this.io = io;
    this.useWorker = worker && io === fs;
    this.writeError = null;  // { at, what, message } of the last failed ledger write, until one succeeds
    this.retentionMs = retentionDays * DAY_MS;
    this.segmentEvents = segmentEvents;
    this.log = log;
    this.segmentStore = null;  // inline mode: the open segment
    this.worker = null;        // worker mode: { thread, calls: Map(id -> {resolve, reject}), next }
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
    this.pending = [];      // inline mode: events appended since the last checkpoint
    // Worker mode holds no event objects on this thread (the sealed journal files are the batch,
    // and 10,000 objects a checkpoint would live long enough to be promoted and collected as old
    // generation): a count and the earliest ts of what was appended since the last seal.
    this.unsealed = { count: 0, minTs: Infinity };
    this.sealed = [];       // worker mode: [{ gen, file, count, minTs }] sealed, not yet in a segment
    this.gen = 0;           // newest sealed journal generation
    this.inflight = null;   // worker mode: the checkpoint under way
    this.backlog = { events: Infinity, handler: null };  // see onBacklog()
    this.lastCheckpointMs = 0;
    this.checkpoints = 0;   // completed checkpoints (bench: how many fell inside a measurement)
    this.maxCheckpointHoldMs = 0;  // see takeLoopHold()
    this.backend = 'sqljs';
  }

  segmentFile(seq) {
    return segmentFile(this.dir, seq);
  }

  // Opens the store and returns every retained event in time order (to seed the engine).
  // perSecond: the segments' events come back summed per UTC second, provider, model, account and
  // status ({ts (the second's start, ms), provider_id, model, account, status, count, cost,
  // tokens_in, tokens_out: totals over `count` events}, no id): the resolution the engine keeps
  // (usage_ledger.hpp), so seeding it from these is seeding it from the events, at the cost of one
  // row per busy second instead of one per request. Journal events (not yet in a segment) stay
  // single events either way.
  async open(nowMs = Date.now(), { perSecond = false } = {}) {
    this.SQL = await loadSql();
    fs.mkdirSync(this.dir, { recursive: true });
    const events = [];
    const cutoff = nowMs - this.retentionMs;
    let lastSeq = 0;
    const sealedFiles = [];
    const seqs = [];
    for (const name of fs.readdirSync(this.dir).sort()) {
      if (name.endsWith('.tmp')) {
        fs.rmSync(path.join(this.dir, name), { force: true });  // a checkpoint torn by a crash
        continue;
      }
      const g = JOURNAL_GEN_RE.exec(name);
      if (g) {
        sealedFiles.push(path.join(this.dir, name));
        this.gen = Math.max(this.gen, Number(g[1]));
        continue;
      }
      const m = SEGMENT_RE.exec(name);
      if (m) seqs.push(Number(m[1]));
    }
    // Sealed journals (a checkpoint the worker had not finished) come before the current one. A
    // journal event that a segment also holds (a crash between the segment's write and the
    // journal's removal) has the same id and ts there: only segment events at or after the
    // journals' earliest ts need to be known (none after a clean stop).
    const lines = [...sealedFiles.map((f) => this.readJournal(f)), this.readJournal(this.journalPath)];
    let minTs = Infinity;
    for (const list of lines) for (const e of list) if (e.ts < minTs) minTs = e.ts;
    const known = new Set();
    const newestSeq = seqs.length ? seqs[seqs.length - 1] : 0;
    for (const seq of seqs) {
      lastSeq = Math.max(lastSeq, seq);
      // A closed segment's summary stands for it when it is valid, wholly inside retention (or
      // wholly past it) and older than every journal event (no id needs checking).
      const summary = perSecond && seq < newestSeq ? this.readSummary(seq) : null;
      if (summary && summary.maxTs <= cutoff) {
        this.removeSegment(seq);  // wholly past retention
        continue;
      }
      if (summary && summary.minTs > cutoff && summary.maxTs < minTs) {
        events.push(...summary.events);
        this.segments.push({ seq, maxTs: summary.maxTs });
        continue;
      }
      const db = readSegment(this.SQL, this.dir, seq, this.log);
      if (!db) continue;
      const [count, maxTs] = db.exec('SELECT COUNT(*), MAX(ts) FROM events')[0].values[0];
      if (count && maxTs <= cutoff) {
        db.close();
        this.removeSegment(seq);  // wholly past retention
        continue;
      }
      if (perSecond) {
        // (ts / 1000) * 1000 floors like the engine's second_floor since ts > cutoff > 0.
        const rows = db.exec(PER_SECOND_SQL, [cutoff]);
        if (rows.length) for (const r of rows[0].values) events.push(perSecondEvent(r));
        if (minTs !== Infinity) {
          const ids = db.exec('SELECT id FROM events WHERE ts >= ?', [minTs]);
          if (ids.length) for (const r of ids[0].values) known.add(r[0]);
        }
      } else {
        const rows = db.exec(`SELECT ${COLUMNS} FROM events WHERE ts > ?`, [cutoff]);
        if (rows.length) for (const r of rows[0].values) {
          events.push(rowToEvent(r));
          if (r[1] >= minTs) known.add(r[0]);
        }
      }
      db.close();
      this.segments.push({ seq, maxTs: maxTs ?? -Infinity });
    }
    // The newest segment stays open (in the segment store) while it has room.
    const newest = this.segments[this.segments.length - 1];
    const continueSeq = newest && newest.seq === lastSeq ? lastSeq : lastSeq + 1;
    if (newest && newest.seq === lastSeq) this.segments.pop();
    let replayed = 0;
    for (const list of lines) {
      for (const e of list) {
        if (known.has(e.id)) continue;
        known.add(e.id);
        this.pending.push(e);
        events.push(e);
        replayed++;
      }
    }
    const hadSealed = sealedFiles.length > 0;
    await this.startSegments(continueSeq);
    // A newest segment that is already full was closed, not continued: it is pruned like the others.
    if (newest && newest.seq === lastSeq && this.segmentStore.current.seq !== lastSeq) this.segments.push(newest);
    this.journalFd = this.io.openSync(this.journalPath, 'a');
    this.journal.setFd(this.journalFd);
    // Replayed events move into the segments, and a torn line left by a crash is cut away, so a
    // line appended now never joins it. On a disk that is still full the checkpoint fails: the
    // journal stays as it is (every event in it is already safe), the store starts degraded, and
    // the next checkpoint retries; a newline is queued first so that no new line joins a torn one.
    if (replayed > 0 || this.journalHadContent || hadSealed) {
      try {
        this.checkpointInline();
        for (const f of sealedFiles) this.io.unlinkSync(f);
      } catch (err) {
        this.log?.error({ err: err.message }, 'ledger checkpoint at start failed; serving degraded, the journal keeps the events');
        if (!this.journalEndsClean) this.journal.append('\n');
      }
    }
    if (this.useWorker) await this.startWorker(this.segmentStore.current.seq);
    // Segments hold events in about time order: sort only when they are not.
    for (let i = 1; i < events.length; i++) {
      if (events[i].ts < events[i - 1].ts) {
        events.sort((a, b) => a.ts - b.ts);
        break;
      }
    }
    return events;
  }

  // The segment store, inline; in worker mode also the worker, which opens the same segment after
  // the start-up checkpoint (run inline, before any request) has written it.
  async startSegments(seq) {
    this.segmentStore = new SegmentStore({ dir: this.dir, segmentEvents: this.segmentEvents, io: this.io, log: this.log });
    await this.segmentStore.open(seq);
  }

  // seq: the open segment the worker continues (its file, as the last store wrote it).
  async startWorker(seq) {
    const { Worker } = require('node:worker_threads');
    if (this.segmentStore) this.segmentStore.close();
    this.segmentStore = null;
    this.openSeq = seq;
    const thread = new Worker(path.join(__dirname, 'segment-worker.js'));
    thread.unref();
    const w = { thread, calls: new Map(), next: 1, dead: null };
    thread.on('message', (m) => {
      const call = w.calls.get(m.id);
      if (!call) return;
      w.calls.delete(m.id);
      if (m.error) call.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else call.resolve(m.result);
    });
    const fail = (err) => {
      if (w.dead) return;
      w.dead = err;
      for (const call of w.calls.values()) call.reject(err);
      w.calls.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`segment worker exited (${code})`)));
    // A call that gets no answer (a worker that hangs, or one stopped before its exit event
    // arrived) fails after WORKER_CALL_MS and the worker counts as dead: a checkpoint, and so a
    // close, never waits forever.
    w.call = (op, args) => {
      if (w.dead) return Promise.reject(w.dead);
      const id = w.next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          w.calls.delete(id);
          const err = new Error(`segment worker did not answer "${op}" within ${WORKER_CALL_MS} ms`);
          fail(err);
          reject(err);
        }, WORKER_CALL_MS);
        timer.unref();
        w.calls.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
        thread.postMessage({ id, op, args });
      });
    };
    this.worker = w;
    await w.call('open', { dir: this.dir, segmentEvents: this.segmentEvents, seq, skipFromTs: null });
  }

  // The valid events of one journal file, in order ([] when there is none).
  readJournal(file) {
    const out = [];
    if (!fs.existsSync(file)) return out;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        // Only a write torn by a crash can be partial, and that response was never completed.
        this.log?.warn({ line: i + 1, file }, 'skipping torn journal line');
        return;
      }
      const why = [];
      const clean = validEvent(e, why);
      if (why.length) this.log?.warn({ line: i + 1, file, fields: why }, clean ? 'journal line with invalid numbers; kept with them as 0' : 'journal line is not a usage event; skipped');
      if (clean) out.push(clean);
    });
    if (file === this.journalPath) {
      this.journalHadContent = lines.some((l) => l.trim());
      this.journalEndsClean = lines[lines.length - 1] === '';
    }
    return out;
  }

  // Queues the event for the journal and the next checkpoint; it is durable once durable() resolves.
  // Numbers that SQLite or the engine cannot take are stored as 0 and logged (validEvent).
  append(event) {
    const why = [];
    const e = validEvent({ ...event, id: event.id || crypto.randomUUID() }, why);
    if (!e) throw new Error(`usage event rejected: invalid ${why.join(', ')}`);
    if (why.length) this.log?.warn({ id: e.id, provider: e.provider_id, fields: why }, 'usage event with invalid numbers; stored with them as 0');
    this.journal.append(`${JSON.stringify(e)}\n`);
    let waiting;
    if (this.worker) {
      const u = this.unsealed;
      waiting = ++u.count + this.pending.length;
      if (e.ts < u.minTs) u.minTs = e.ts;
    } else {
      waiting = this.pending.push(e);
    }
    if (waiting === this.backlog.events && this.backlog.handler) this.backlog.handler();
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

  // Events not yet in a segment (appended, or sealed and handed to the worker).
  get waiting() {
    let n = this.pending.length + this.unsealed.count;
    for (const s of this.sealed) n += s.count;
    return n;
  }

  // Inline checkpoint: moves pending events into SQLite and writes the segment atomically, then
  // empties the journal. Synchronous on purpose: no event can be appended between the export and
  // the truncation. Returns the milliseconds it took. Throws the first failure after undoing what
  // it did in memory; the journal then still holds every pending event and the next call retries.
  // In worker mode use checkpointAsync() (this one is for the start and for tools).
  checkpoint() {
    if (this.worker) return this.checkpointAsync();
    return this.checkpointInline();
  }

  checkpointInline() {
    const t0 = process.hrtime.bigint();
    try {
      if (this.journalFd !== null) this.journal.flush();  // the file must hold what is queued before it is emptied
      if (this.pending.length || this.segmentStore.current.dirty) {
        const { closed } = this.segmentStore.store(this.pending);
        this.segments.push(...closed);
      }
      if (this.journalFd !== null) {
        this.io.ftruncateSync(this.journalFd, 0);
        this.io.fsyncSync(this.journalFd);
      }
      this.segmentStore.confirm();
    } catch (err) {
      this.writeError = { at: Date.now(), what: 'checkpoint', message: `ledger checkpoint failed: ${err.code || err.message}` };
      throw err;
    }
    this.pending = [];
    if (this.writeError && this.writeError.what === 'checkpoint') this.writeError = null;
    this.lastCheckpointMs = Number(process.hrtime.bigint() - t0) / 1e6;
    this.noteHold(this.lastCheckpointMs);
    this.checkpoints++;
    return this.lastCheckpointMs;
  }

  // Worker-mode checkpoint. On this thread: seal the journal (flush, rename it to
  // journal-<gen>.jsonl, open a fresh journal.jsonl; a few syscalls) and post the sealed files'
  // names. In the worker: read them, insert, export, write the segment atomically. Back here:
  // delete the sealed journals it covered. A failure keeps them (re-sent next time: INSERT OR
  // IGNORE and the worker's closed-segment ids make the retry exact). Resolves with the worker's
  // milliseconds. One checkpoint at a time: a call while one runs is served by the next one, which
  // starts when it ends (so everything appended before the call is stored when it resolves).
  checkpointAsync() {
    if (!this.worker) return Promise.resolve(this.checkpointInline());
    if (this.inflight) {
      this.queued ??= this.inflight.catch(() => {}).then(() => {
        this.queued = null;
        return this.checkpointAsync();
      });
      return this.queued;
    }
    const run = async () => {
      try {
        this.seal();
      } catch (err) {
        this.writeError = { at: Date.now(), what: 'checkpoint', message: `ledger checkpoint failed: ${err.code || err.message}` };
        throw err;
      }
      if (!this.sealed.length) return 0;
      const batch = [...this.sealed];
      try {
        const result = await this.worker.call('store', { files: batch.map((b) => b.file) });
        this.segments.push(...result.closed);
        if (result.closed.length) this.openSeq = result.closed[result.closed.length - 1].seq + 1;
        this.sealed = this.sealed.filter((s) => !batch.includes(s));
        const kept = [];
        for (const b of batch) {
          try {
            this.io.unlinkSync(b.file);
          } catch (err) {
            kept.push(b);  // retried next time: its events are skipped by id (not confirmed)
          }
        }
        this.sealed.unshift(...kept);
        if (!kept.length) await this.worker.call('confirm', {});
        if (this.writeError && this.writeError.what === 'checkpoint') this.writeError = null;
        this.lastCheckpointMs = result.ms;
        this.checkpoints++;
        return result.ms;
      } catch (err) {
        this.writeError = { at: Date.now(), what: 'checkpoint', message: `ledger checkpoint failed: ${err.code || err.message}` };
        if (this.worker.dead) await this.restartWorker();
        throw err;
      }
    };
    this.inflight = run().finally(() => { this.inflight = null; });
    return this.inflight;
  }

  // The journal's queued lines written, the file renamed aside as the next generation, a fresh
  // journal opened. Nothing happens when nothing was appended.
  seal() {
    const t0 = process.hrtime.bigint();
    try {
      this.sealNow();
    } finally {
      this.noteHold(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }

  noteHold(ms) {
    if (ms > this.maxCheckpointHoldMs) this.maxCheckpointHoldMs = ms;
  }

  // The longest the ledger held the event loop since the last call, in ms: its longest journal
  // write (one per turn, see JournalWriter) and the longest part of a checkpoint that ran on this
  // thread: the seal in worker mode, the whole checkpoint inline (the bench reports both beside
  // the loop delay).
  takeLoopHold() {
    const hold = { write_max_ms: this.journal.takeMaxWriteMs(), checkpoint_max_ms: this.maxCheckpointHoldMs };
    this.maxCheckpointHoldMs = 0;
    return hold;
  }

  sealNow() {
    // pending: events a start-up checkpoint that failed left (they are in this journal too).
    const count = this.unsealed.count + this.pending.length;
    if (!count) return;
    this.journal.flush();
    const gen = this.gen + 1;
    const file = path.join(this.dir, `journal-${String(gen).padStart(10, '0')}.jsonl`);
    this.io.renameSync(this.journalPath, file);
    let fd;
    try {
      fd = this.io.openSync(this.journalPath, 'a');
    } catch (err) {
      // Nothing is sealed: the journal goes back under its name and keeps taking appends.
      this.io.renameSync(file, this.journalPath);
      throw err;
    }
    const old = this.journalFd;
    this.journalFd = fd;
    this.journal.setFd(fd);
    this.gen = gen;
    let minTs = this.unsealed.minTs;
    for (const e of this.pending) if (e.ts < minTs) minTs = e.ts;
    this.sealed.push({ gen, file, count, minTs });
    this.pending = [];
    this.unsealed = { count: 0, minTs: Infinity };
    try {
      this.io.closeSync(old);
    } catch (err) {
      this.log?.warn({ err: err.code || err.message }, 'closing a sealed journal failed; its lines are written');
    }
  }

  // A worker that died (out of memory, a bug) is replaced by one that reopens the segment from its
  // file; the events of closed segments that a re-sent batch may repeat are skipped by id.
  async restartWorker() {
    this.log?.error({ err: this.worker.dead.message }, 'ledger segment worker died; restarting it');
    let minTs = Infinity;
    for (const s of this.sealed) minTs = Math.min(minTs, s.minTs);
    const dead = this.worker;
    dead.thread.removeAllListeners('exit');
    dead.thread.terminate().catch(() => {});
    try {
      await this.startWorker(this.openSeq);
      if (Number.isFinite(minTs)) await this.worker.call('skipClosed', { fromTs: minTs });
    } catch (err) {
      this.log?.error({ err: err.message }, 'ledger segment worker could not restart; the journal keeps the events');
    }
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
      this.removeSegment(s.seq);
      return false;
    });
  }

  removeSegment(seq) {
    fs.rmSync(this.segmentFile(seq), { force: true });
    fs.rmSync(summaryFile(this.dir, seq), { force: true });
  }

  // A closed segment's per-second summary (segment-store.js writeSummary) as {minTs, maxTs,
  // events}, or null when it is missing or anything in it is not what it must be (then the
  // segment itself is read).
  readSummary(seq) {
    const file = summaryFile(this.dir, seq);
    let doc;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      if (err.code !== 'ENOENT') this.log?.warn({ file, err: err.message }, 'ledger segment summary unreadable; reading the segment');
      return null;
    }
    const finite = (v) => typeof v === 'number' && Number.isFinite(v);
    if (!doc || doc.v !== 1 || !Array.isArray(doc.rows) || !finite(doc.minTs) || !finite(doc.maxTs) || !Number.isInteger(doc.count)) return this.badSummary(file, 'shape');
    const events = [];
    let total = 0;
    for (const r of doc.rows) {
      if (!Array.isArray(r) || r.length !== 9 || !Number.isInteger(r[5]) || r[5] < 1 || r[5] > 1e9) return this.badSummary(file, 'row');
      const why = [];
      const e = validEvent({ id: 'summary', ts: r[0], provider_id: r[1], model: r[2], account: r[3], status: r[4], cost: r[6], tokens_in: r[7], tokens_out: r[8] }, why);
      if (!e || why.length || e.model !== r[2] || r[0] % 1000 !== 0) return this.badSummary(file, why.join(', ') || 'row');
      events.push({ ts: e.ts, provider_id: e.provider_id, model: e.model, account: e.account, status: e.status, count: r[5], cost: e.cost,
        tokens_in: e.tokens_in, tokens_out: e.tokens_out });
      total += r[5];
    }
    if (total !== doc.count) return this.badSummary(file, `count ${doc.count} but rows sum to ${total}`);
    return { minTs: doc.minTs, maxTs: doc.maxTs, events };
  }

  badSummary(file, why) {
    this.log?.warn({ file, why }, 'ledger segment summary invalid; reading the segment');
    return null;
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
    return { backend: 'sqljs', degraded: reason !== null, reason, pending_checkpoint: this.waiting, last_checkpoint_ms: this.lastCheckpointMs,
      checkpoints: this.checkpoints, segment_worker: Boolean(this.worker) };
  }

  // Checkpoints and closes. A checkpoint that fails here leaves the journal in place (nothing is
  // lost: the next open replays it); it is logged, and close() still succeeds. In worker mode it
  // returns a promise (the last checkpoint runs in the worker).
  close() {
    if (this.journalFd === null) return undefined;
    if (this.worker) return this.closeWorker();
    try {
      this.checkpointInline();
    } catch (err) {
      this.log?.error({ err: err.message }, 'final ledger checkpoint failed; the journal keeps the events for the next start');
    }
    this.closeJournal();
    this.segmentStore.close();
    return undefined;
  }

  async closeWorker() {
    try {
      if (this.inflight) await this.inflight.catch(() => {});
      await this.checkpointAsync();
    } catch (err) {
      this.log?.error({ err: err.message }, 'final ledger checkpoint failed; the journal keeps the events for the next start');
    }
    this.closeJournal();
    const w = this.worker;
    this.worker = null;
    await w.call('close', {}).catch(() => {});
    await w.thread.terminate().catch(() => {});
  }

  closeJournal() {
    fs.closeSync(this.journalFd);
    this.journalFd = null;
    this.journal.setFd(null);
  }
}

module.exports = { LedgerStore, validEvent };
