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
const { SegmentStore, segmentFile, summaryFile } = require('./segment-store');
const { validEvent } = require('./ledger-event');
const { startSegmentWorker } = require('./segment-worker-client');
const { openLedger } = require('./ledger-open');

const DAY_MS = 86400000;

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
    return openLedger(this, nowMs, { perSecond });
  }

  // The segment store, inline; in worker mode also the worker, which opens the same segment after
  // the start-up checkpoint (run inline, before any request) has written it.
  async startSegments(seq) {
    this.segmentStore = new SegmentStore({ dir: this.dir, segmentEvents: this.segmentEvents, io: this.io, log: this.log });
    await this.segmentStore.open(seq);
  }

  // seq: the open segment the worker continues (its file, as the last store wrote it).
  async startWorker(seq) {
    if (this.segmentStore) this.segmentStore.close();
    this.segmentStore = null;
    this.openSeq = seq;
    const w = startSegmentWorker(path.join(__dirname, 'segment-worker.js'));
    this.worker = w;
    await w.call('open', { dir: this.dir, segmentEvents: this.segmentEvents, seq, skipFromTs: null });
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

module.exports = { LedgerStore };
