// What a start finds on disk (LedgerStore.open): the segments within retention (a closed one's
// per-second summary stands for it when valid), the sealed journals a checkpoint had not
// finished and the journal, replayed once each, deduplicated by event id against the segments
// (a crash between a segment's write and its journal's removal repeats events). A torn last line
// (a crash mid-write: that response was never completed) is the only thing skipped. The replayed
// events are checkpointed before the first request; on a full disk the store starts degraded and
// the journal keeps them. These functions fill the store's fields; they are its start, kept apart
// from its steady state.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { COLUMNS, SEGMENT_RE, PER_SECOND_SQL, loadSql, readSegment, rowToEvent } = require('./segment-store');
const { validEvent, perSecondEvent } = require('./ledger-event');
const { readSummary } = require('./segment-summary');

const JOURNAL_GEN_RE = /^journal-(\d{10})\.jsonl$/;

// store: a LedgerStore not yet open. Returns every retained event in time order (see
// LedgerStore.open for `perSecond`).
async function openLedger(store, nowMs, { perSecond = false } = {}) {
  store.SQL = await loadSql();
  fs.mkdirSync(store.dir, { recursive: true });
  const events = [];
  const cutoff = nowMs - store.retentionMs;
  let lastSeq = 0;
  const sealedFiles = [];
  const seqs = [];
  for (const name of fs.readdirSync(store.dir).sort()) {
    if (name.endsWith('.tmp')) {
      fs.rmSync(path.join(store.dir, name), { force: true });  // a checkpoint torn by a crash
      continue;
    }
    const g = JOURNAL_GEN_RE.exec(name);
    if (g) {
      sealedFiles.push(path.join(store.dir, name));
      store.gen = Math.max(store.gen, Number(g[1]));
      continue;
    }
    const m = SEGMENT_RE.exec(name);
    if (m) seqs.push(Number(m[1]));
  }
  // Sealed journals (a checkpoint the worker had not finished) come before the current one. A
  // journal event that a segment also holds (a crash between the segment's write and the
  // journal's removal) has the same id and ts there: only segment events at or after the
  // journals' earliest ts need to be known (none after a clean stop).
  const lines = [...sealedFiles.map((f) => readJournal(store, f)), readJournal(store, store.journalPath)];
  let minTs = Infinity;
  for (const list of lines) for (const e of list) if (e.ts < minTs) minTs = e.ts;
  const known = new Set();
  const newestSeq = seqs.length ? seqs[seqs.length - 1] : 0;
  for (const seq of seqs) {
    lastSeq = Math.max(lastSeq, seq);
    // A closed segment's summary stands for it when it is valid, wholly inside retention (or
    // wholly past it) and older than every journal event (no id needs checking).
    const summary = perSecond && seq < newestSeq ? readSummary(store.dir, seq, store.log) : null;
    if (summary && summary.maxTs <= cutoff) {
      store.removeSegment(seq);  // wholly past retention
      continue;
    }
    if (summary && summary.minTs > cutoff && summary.maxTs < minTs) {
      events.push(...summary.events);
      store.segments.push({ seq, maxTs: summary.maxTs });
      continue;
    }
    const db = readSegment(store.SQL, store.dir, seq, store.log);
    if (!db) continue;
    const [count, maxTs] = db.exec('SELECT COUNT(*), MAX(ts) FROM events')[0].values[0];
    if (count && maxTs <= cutoff) {
      db.close();
      store.removeSegment(seq);  // wholly past retention
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
    store.segments.push({ seq, maxTs: maxTs ?? -Infinity });
  }
  // The newest segment stays open (in the segment store) while it has room.
  const newest = store.segments[store.segments.length - 1];
  const continueSeq = newest && newest.seq === lastSeq ? lastSeq : lastSeq + 1;
  if (newest && newest.seq === lastSeq) store.segments.pop();
  let replayed = 0;
  for (const list of lines) {
    for (const e of list) {
      if (known.has(e.id)) continue;
      known.add(e.id);
      store.pending.push(e);
      events.push(e);
      replayed++;
    }
  }
  const hadSealed = sealedFiles.length > 0;
  await store.startSegments(continueSeq);
  // A newest segment that is already full was closed, not continued: it is pruned like the others.
  if (newest && newest.seq === lastSeq && store.segmentStore.current.seq !== lastSeq) store.segments.push(newest);
  store.journalFd = store.io.openSync(store.journalPath, 'a');
  store.journal.setFd(store.journalFd);
  // Replayed events move into the segments, and a torn line left by a crash is cut away, so a
  // line appended now never joins it. On a disk that is still full the checkpoint fails: the
  // journal stays as it is (every event in it is already safe), the store starts degraded, and
  // the next checkpoint retries; a newline is queued first so that no new line joins a torn one.
  if (replayed > 0 || store.journalHadContent || hadSealed) {
    try {
      store.checkpointInline();
      for (const f of sealedFiles) store.io.unlinkSync(f);
    } catch (err) {
      store.log?.error({ err: err.message }, 'ledger checkpoint at start failed; serving degraded, the journal keeps the events');
      if (!store.journalEndsClean) store.journal.append('\n');
    }
  }
  if (store.useWorker) await store.startWorker(store.segmentStore.current.seq);
  // Segments hold events in about time order: sort only when they are not.
  for (let i = 1; i < events.length; i++) {
    if (events[i].ts < events[i - 1].ts) {
      events.sort((a, b) => a.ts - b.ts);
      break;
    }
  }
  return events;
}

// The valid events of one journal file, in order ([] when there is none).
function readJournal(store, file) {
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
      store.log?.warn({ line: i + 1, file }, 'skipping torn journal line');
      return;
    }
    const why = [];
    const clean = validEvent(e, why);
    if (why.length) store.log?.warn({ line: i + 1, file, fields: why }, clean ? 'journal line with invalid numbers; kept with them as 0' : 'journal line is not a usage event; skipped');
    if (clean) out.push(clean);
  });
  if (file === store.journalPath) {
    store.journalHadContent = lines.some((l) => l.trim());
    store.journalEndsClean = lines[lines.length - 1] === '';
  }
  return out;
}

module.exports = { openLedger };
