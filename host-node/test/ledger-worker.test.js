// The ledger with its segment in a worker thread (the gateway's mode): exactly once across sealed
// journals, roll-overs, a worker that dies, and a process that stops without closing; and the
// event loop's share of a checkpoint stays a few syscalls, not a database export.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { LedgerStore } = require('../lib/ledger-store');
const { tmpDir } = require('./helpers');

const event = (i, ts = Date.now()) => ({ id: `e${i}`, ts, provider_id: 'p', model: 'm', status: 200, cost: 0.001, tokens_in: 10, tokens_out: 5, account: i % 2 ? 'work' : '' });

async function reopen(dir) {
  const again = new LedgerStore({ dir });
  const ids = (await again.open()).map((e) => e.id);
  again.close();
  return ids;
}

function once(ids, n) {
  const sorted = [...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  assert.deepEqual(sorted, Array.from({ length: n }, (_, i) => `e${i}`));
}

test('worker mode: roll-overs and sealed journals store every event once', async () => {
  const dir = tmpDir();
  const store = new LedgerStore({ dir, segmentEvents: 4, worker: true });
  await store.open();
  assert.equal(store.health().segment_worker, true);
  for (let i = 0; i < 25; i++) {
    store.append(event(i));
    await store.durable();
    if (i % 3 === 2) store.checkpointAsync().catch(() => {});  // overlapping calls join the one under way
  }
  await store.checkpointAsync();
  assert.equal(store.waiting, 0);
  assert.ok(store.checkpoints >= 2);
  await store.close();
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('journal-')), [], 'sealed journals are deleted once stored');
  once(await reopen(dir), 25);
});

test('worker mode: a worker that dies is replaced and nothing is lost or doubled', async () => {
  const dir = tmpDir();
  const store = new LedgerStore({ dir, segmentEvents: 4, worker: true });
  await store.open();
  for (let i = 0; i < 10; i++) store.append(event(i));
  await store.durable();
  await store.checkpointAsync();
  for (let i = 10; i < 18; i++) store.append(event(i));
  await store.durable();
  const exited = new Promise((resolve) => store.worker.thread.once('exit', resolve));
  await store.worker.thread.terminate();  // the worker is gone (as after an out-of-memory)
  await exited;
  await assert.rejects(store.checkpointAsync());
  assert.equal(store.health().degraded, true);
  for (let i = 18; i < 22; i++) store.append(event(i));
  await store.durable();
  await store.checkpointAsync();  // the restarted worker stores the sealed journals
  assert.equal(store.health().degraded, false);
  await store.close();
  once(await reopen(dir), 22);
});

test('worker mode: stopping without close (kill -9) keeps sealed and current journals for the next start', async () => {
  const dir = tmpDir();
  const store = new LedgerStore({ dir, segmentEvents: 4, worker: true });
  await store.open();
  for (let i = 0; i < 9; i++) store.append(event(i));
  await store.durable();
  await store.checkpointAsync();
  for (let i = 9; i < 14; i++) store.append(event(i));
  await store.durable();
  store.seal();  // sealed, never handed over: as if the process died right after
  for (let i = 14; i < 16; i++) store.append(event(i));
  await store.durable();
  await store.worker.thread.terminate();
  fs.closeSync(store.journalFd);
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('journal-')).length, 1);
  once(await reopen(dir), 16);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('journal-')), [], 'replayed sealed journals are stored and deleted');
});

test('worker mode: a checkpoint hands its work to the worker: the call returns before anything is stored', async (t) => {
  const dir = tmpDir();
  const store = new LedgerStore({ dir, worker: true });
  await store.open();
  try {
    const ts = Date.now();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9000; i++) store.append(event(round * 9000 + i, ts));
      await store.durable();
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const before = store.checkpoints;
      const t0 = process.hrtime.bigint();
      const done = store.checkpointAsync();
      const syncMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // Behaviour, not timing: on return the journal is sealed and nothing is stored yet.
      assert.equal(store.checkpoints, before, 'nothing was stored on the event loop');
      assert.equal(store.sealed.length, 1);
      assert.ok(fs.existsSync(store.sealed[0].file));
      assert.equal(store.pending.length, 0, 'new events go to a fresh journal');
      const workerMs = await done;
      h.disable();
      // Figures for docs/performance.md (the benchmark measures; this only reports).
      t.diagnostic(`round ${round}: on the event loop ${syncMs.toFixed(2)} ms, in the worker ${workerMs.toFixed(1)} ms, loop delay max ${(h.max / 1e6).toFixed(1)} ms`);
      assert.equal(store.checkpoints, before + 1);
      // The ledger reports what it held the loop for: this round's seal and journal writes, once.
      const hold = store.takeLoopHold();
      assert.ok(hold.checkpoint_max_ms > 0 && hold.write_max_ms > 0, JSON.stringify(hold));
      assert.deepEqual(store.takeLoopHold(), { write_max_ms: 0, checkpoint_max_ms: 0 });
    }
  } finally {
    await store.close();
  }
  assert.equal((await reopen(dir)).length, 27000);
});

// The gateway seeds its engine from per-second sums (open(now, {perSecond: true})): the engine must
// end in the same state as when seeded event by event, whatever mix of seconds, providers,
// models, accounts and statuses, and with events still in the journal (a crash before a
// checkpoint) counted once.
test('per-second seeding gives the engine the same state as seeding event by event', async () => {
  const { loadCore } = require('../lib/core');
  const { recordUsageEvent } = require('../lib/engine-session');
  const core = await loadCore();
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const catalog = JSON.stringify({ schema_version: 1, packages: {
    credits: { provider_id: 'p', total_credits: 50, used_credits: 0, expiry_date: '2027-01-31', models: ['*'] },
    window: { provider_id: 'q', package_type: 'rolling_window', window_hours: 5, limit_per_window: 4000, models: ['*'], model_weights: { 'big-*': 3 } },
    daily: { provider_id: 'r', package_type: 'daily', limit_per_day: 5000, models: ['*'] },
  } });
  const dir = tmpDir();
  const store = new LedgerStore({ dir, segmentEvents: 300 });
  await store.open(now);
  let n = 0;
  // Second s: up to 8 events of one provider; models, statuses and accounts split some seconds.
  const add = (ts, s, k) => {
    const i = n++;
    store.append({ id: `s${i}`, ts, provider_id: ['p', 'q', 'r'][s % 3], model: k % 3 ? 'small-1' : 'big-2', status: k === 5 ? 429 : 200,
      cost: 0.0003 * (1 + (i % 7)), tokens_in: 10 + (i % 13), tokens_out: 5 + (i % 3), account: s % 5 ? '' : 'work' });
  };
  for (let s = 0; s < 400; s++) for (let k = 0; k <= s % 8; k++) add(now - 6 * 3600000 + s * 40000 + k * 111, s, k);
  store.checkpoint();
  for (let k = 0; k < 25; k++) add(now - 5000 + k * 100, 7, k % 2);  // in the journal only: no checkpoint after them
  await store.durable();
  const warnings = [];
  const log = { warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`), info() {}, error() {} };
  const seeded = async (perSecond) => {
    const again = new LedgerStore({ dir, log });
    const events = await again.open(now, { perSecond });
    again.close();
    const engine = new core.Engine();
    assert.equal(engine.loadCatalog(catalog, 'test').ok, true);
    for (const e of events) recordUsageEvent(engine, e);
    const doc = JSON.parse(engine.quotasJson(now));
    engine.delete();
    return { rows: events.length, doc };
  };
  const single = await seeded(false);
  const summed = await seeded(true);
  assert.equal(single.rows, n, 'event by event: every event once');
  assert.ok(summed.rows < n * 0.6, `per second: fewer rows (${summed.rows} of ${n})`);
  // Money sums may differ in the last bit (a sum divided by its count and multiplied back).
  const close = (a, b, where) => {
    if (typeof a === 'number' && typeof b === 'number') {
      assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)), `${where}: ${a} vs ${b}`);
    } else if (a && typeof a === 'object') {
      assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), where);
      for (const k of Object.keys(a)) close(a[k], b[k], `${where}.${k}`);
    } else {
      assert.equal(a, b, where);
    }
  };
  close(single.doc, summed.doc, 'quotas');
  assert.ok(single.doc.packages.every((p) => p.used > 0), 'every package has usage to compare');

  // Closed segments left their per-second sums beside them; a start reads those, and falls back
  // to the segment when one is missing, torn, tampered with or overlaps the journal.
  const summaries = fs.readdirSync(dir).filter((f) => f.endsWith('.seconds.json')).sort();
  assert.ok(summaries.length >= 4, `closed segments have summaries (${summaries.length})`);
  const file = (i) => path.join(dir, summaries[i]);
  fs.rmSync(file(0));
  fs.writeFileSync(file(1), fs.readFileSync(file(1), 'utf8').slice(0, 100));
  const tampered = JSON.parse(fs.readFileSync(file(2), 'utf8'));
  tampered.rows[0][6] = -5;  // a negative cost
  fs.writeFileSync(file(2), JSON.stringify(tampered));
  close(single.doc, (await seeded(true)).doc, 'quotas with summaries missing, torn and tampered');
  assert.equal(warnings.filter((w) => /summary (unreadable|invalid)/.test(w)).length, 2, warnings.join('\n'));
  // A crash between a segment's write and its journal's removal: the journal repeats events a
  // closed segment holds; they count once (the summary is not used: ids must be checked).
  const segmentRow = JSON.parse(fs.readFileSync(file(3), 'utf8')).rows[0];
  const again = new LedgerStore({ dir });
  const repeated = (await again.open(now)).filter((e) => e.ts >= segmentRow[0] && e.ts < segmentRow[0] + 1000);
  again.close();
  fs.appendFileSync(path.join(dir, 'journal.jsonl'), repeated.map((e) => `${JSON.stringify(e)}\n`).join(''));
  close(single.doc, (await seeded(true)).doc, 'quotas after a journal repeats stored events');
  // Retention removes a summary with its segment.
  const later = new LedgerStore({ dir });
  await later.open(now);
  later.prune(now + 36 * 86400000);
  later.close();
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.seconds.json')), [], fs.readdirSync(dir).join(' '));
});
