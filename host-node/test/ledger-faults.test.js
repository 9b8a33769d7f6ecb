// The ledger under disk faults (issue 12, cases 1-3): every write checks what was written, a short
// write or ENOSPC never replaces a good file, and a failure of any single write, fsync, truncation
// or rename of the ledger, at any point of a run with segment roll-overs, still leaves every event
// stored exactly once after a restart (and after a crash without close).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { writeAtomic } = require('../lib/atomic-write');
const { LedgerStore } = require('../lib/ledger-store');
const { validEvent } = require('../lib/ledger-event');
const { tmpDir } = require('./helpers');

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

// An fs whose writes of more than `room` bytes in total are cut short and then fail with ENOSPC,
// as a file system does when it fills up.
function fillingFs(room) {
  let left = room;
  return {
    ...fs,
    writeSync(fd, buf, off = 0, len = buf.length - off, pos) {
      if (left <= 0) throw enospc();
      const n = Math.min(len, left);
      left -= n;
      return fs.writeSync(fd, buf, off, n, pos);
    },
    grow(bytes) { left += bytes; },
  };
}

test('a short write (disk full) never replaces the good file; the temp file is removed', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'segment.sqlite');
  fs.writeFileSync(file, 'the good content');
  const io = fillingFs(10);
  assert.throws(() => writeAtomic(file, Buffer.alloc(4096, 'x'), 0o644, { io }), /ENOSPC/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'the good content');
  assert.deepEqual(fs.readdirSync(dir), ['segment.sqlite'], 'no temp file left behind');
  // Writes that come back short but succeed are continued until every byte is there.
  let calls = 0;
  const dribble = { ...fs, writeSync: (fd, buf, off, len) => { calls++; return fs.writeSync(fd, buf, off, Math.min(len, 7)); } };
  writeAtomic(file, 'x'.repeat(100), 0o644, { io: dribble });
  assert.equal(fs.readFileSync(file, 'utf8'), 'x'.repeat(100));
  assert.equal(calls, 15);
  // A write that reports 0 bytes is an error, not a loop.
  const stuck = { ...fs, writeSync: () => 0 };
  assert.throws(() => writeAtomic(file, 'y', 0o644, { io: stuck }), /short write/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'x'.repeat(100));
});

test('a symlinked file is written through to its target and the link stays', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'real'));
  const target = path.join(dir, 'real', 'catalog.v1.json');
  fs.writeFileSync(target, '{}');
  const link = path.join(dir, 'catalog.v1.json');
  fs.symlinkSync(path.join('real', 'catalog.v1.json'), link);
  assert.equal(writeAtomic(link, '{"a":1}'), target);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'still a link');
  assert.equal(fs.readFileSync(target, 'utf8'), '{"a":1}');
});

const event = (i, extra = {}) => ({ id: `e${i}`, ts: 1795867200000 + i * 1000, provider_id: 'p', model: 'm', status: 200, cost: 0.001, tokens_in: 10, tokens_out: 5, ...extra });

test('numbers SQLite cannot bind never wedge a checkpoint (case 2); invalid ones are kept as 0 (case 3)', async () => {
  const dir = tmpDir();
  const warnings = [];
  const log = { warn: (o, m) => warnings.push(m), error: () => {}, info: () => {} };
  const store = new LedgerStore({ dir, log });
  await store.open();
  store.append(event(1, { tokens_in: { cached: 1 } }));
  store.append(event(2, { tokens_in: 'n/a', cost: NaN }));
  store.append(event(3, { tokens_in: 1e308, cost: Infinity }));
  store.append(event(4, { tokens_in: -3 }));
  store.append(event(5));
  await store.durable();
  store.checkpoint();
  store.append(event(6));
  await store.durable();
  store.checkpoint();
  assert.equal(fs.statSync(path.join(dir, 'journal.jsonl')).size, 0, 'the journal shrinks after each checkpoint');
  assert.equal(warnings.filter((w) => /invalid numbers/.test(w)).length, 4);
  store.close();
  const again = new LedgerStore({ dir });
  const events = await again.open();
  again.close();
  assert.deepEqual(events.map((e) => [e.id, e.tokens_in, e.cost]),
    [['e1', 0, 0.001], ['e2', 0, 0], ['e3', 0, 0], ['e4', 0, 0.001], ['e5', 10, 0.001], ['e6', 10, 0.001]]);
  assert.equal(validEvent({ id: 'x', ts: 1, provider_id: 'p', tokens_in: -1 }).tokens_in, 0);
  assert.equal(validEvent({ id: 'x', ts: NaN, provider_id: 'p' }), null);
});

test('a journal written by an older version with bad values replays instead of failing the start', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'journal.jsonl'),
    `${JSON.stringify(event(1, { tokens_in: { cached: 1 } }))}\n${JSON.stringify(event(2))}\n{"id":"torn","ts":17958`);
  const store = new LedgerStore({ dir });
  const events = await store.open();
  assert.deepEqual(events.map((e) => e.id), ['e1', 'e2']);
  store.append(event(3));
  await store.durable();
  store.close();
  const again = new LedgerStore({ dir });
  assert.deepEqual((await again.open()).map((e) => e.id), ['e1', 'e2', 'e3'], 'a line appended after a torn one is not lost');
  again.close();
});

// Runs a workload of N events with checkpoints and two segment roll-overs on an fs that fails its
// `failAt`-th mutating call once. Returns { acked, ops } (ids whose durable() resolved; calls made).
async function faultyRun(dir, failAt, { crash = false, kinds = null } = {}) {
  let ops = 0;
  const failing = (name, fn) => (...args) => {
    if (!kinds || kinds.includes(name)) {
      ops++;
      if (ops === failAt) throw Object.assign(new Error(`injected ${name} failure`), { code: name === 'renameSync' ? 'EXDEV' : 'ENOSPC' });
    }
    return fn(...args);
  };
  const io = { ...fs };
  for (const name of ['writeSync', 'fsyncSync', 'fdatasyncSync', 'ftruncateSync', 'renameSync', 'openSync', 'closeSync', 'unlinkSync']) io[name] = failing(name, fs[name].bind(fs));
  const store = new LedgerStore({ dir, segmentEvents: 4, fsync: true, io });
  try {
    await store.open();
  } catch {
    return { acked: [], ops, openFailed: true };
  }
  const acked = [];
  for (let i = 0; i < 11; i++) {
    store.append(event(i));
    try {
      await store.durable();
      acked.push(`e${i}`);
    } catch { /* the client got an error; the line stays queued and is retried */ }
    if (i % 3 === 2) {
      try {
        store.checkpoint();
      } catch { /* retried by the next checkpoint */ }
    }
  }
  try {
    await store.durable();
  } catch { /* see below */ }
  if (!crash) store.close();
  return { acked, ops };
}

test('any one failed write, fsync, truncate or rename of the ledger: every event once after restart', async (t) => {
  const clean = await faultyRun(tmpDir(), Infinity);
  assert.ok(clean.ops > 40, `the workload makes ${clean.ops} ledger calls`);
  let cases = 0;
  for (const crash of [false, true]) {
    for (let failAt = 1; failAt <= clean.ops; failAt++) {
      const dir = tmpDir();
      const { acked, openFailed } = await faultyRun(dir, failAt, { crash });
      if (openFailed) continue;  // open itself failed: the gateway does not start, nothing to lose
      const reopened = new LedgerStore({ dir });
      const ids = (await reopened.open()).map((e) => e.id);
      reopened.close();
      const label = `fault at call ${failAt}${crash ? ', then kill -9' : ''}`;
      assert.equal(new Set(ids).size, ids.length, `${label}: an event counted twice: ${ids}`);
      for (const id of acked) assert.ok(ids.includes(id), `${label}: ${id} was acknowledged and is lost (have ${ids})`);
      if (!crash) assert.equal(ids.length, 11, `${label}: every event is stored once the fault has passed (have ${ids})`);
      cases++;
    }
  }
  t.diagnostic(`${cases} fault cases (each of ${clean.ops} ledger calls failed once, with and without kill -9): 0 lost, 0 twice`);
});

test('the ledger on a disk that fills up and gets space back: nothing acknowledged is lost', async (t) => {
  const dir = tmpDir();
  const io = fillingFs(3000);
  const store = new LedgerStore({ dir, segmentEvents: 50, io });
  await store.open();
  const acked = [];
  let failures = 0;
  for (let i = 0; i < 200; i++) {
    store.append(event(i));
    try {
      await store.durable();
      acked.push(`e${i}`);
    } catch {
      failures++;
    }
    if (i % 20 === 19) {
      try {
        store.checkpoint();
      } catch { /* full */ }
    }
    if (i === 120) io.grow(10 * 1024 * 1024);  // the operator frees space
  }
  assert.ok(failures > 0, 'the disk did fill up');
  assert.equal(store.health().degraded, false, 'healthy again once writes succeed');
  store.checkpoint();
  store.close();
  const again = new LedgerStore({ dir });
  const ids = (await again.open()).map((e) => e.id);
  again.close();
  assert.equal(new Set(ids).size, ids.length);
  for (const id of acked) assert.ok(ids.includes(id), `${id} acknowledged and lost`);
  assert.equal(ids.length, 200, 'the events whose writes failed were retried once space was back');
  t.diagnostic(`disk full: ${failures} appends failed while full, ${acked.length} acknowledged, ${ids.length} stored after restart, 0 twice`);
});

test('health() says degraded, with the reason, while the journal cannot be written', async () => {
  const dir = tmpDir();
  let broken = true;
  const io = { ...fs, writeSync: (...a) => { if (broken) throw enospc(); return fs.writeSync(...a); } };
  const store = new LedgerStore({ dir, io });
  await store.open();
  assert.equal(store.writable(), null);
  store.append(event(1));
  await assert.rejects(store.durable(), /ENOSPC/);
  assert.deepEqual([store.health().degraded, store.health().reason], [true, 'usage journal cannot be written (ENOSPC)']);
  assert.equal(store.writable(), 'usage journal cannot be written (ENOSPC)');
  broken = false;
  assert.equal(store.writable(), null, 'the queued line is written at the next try');
  assert.equal(store.health().degraded, false);
  store.close();
});

// Found by a probe: a restart while the ledger disk is still full failed to start (the replay's
// checkpoint threw out of open()). It now starts degraded; the journal keeps every event.
test('a start on a disk that is still full serves degraded and loses nothing once space is back', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'journal.jsonl'), `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n{"id":"to`);
  let full = true;
  const io = { ...fs, writeSync: (...a) => { if (full) throw enospc(); return fs.writeSync(...a); },
    renameSync: (...a) => { if (full) throw enospc(); return fs.renameSync(...a); } };
  const store = new LedgerStore({ dir, io });
  const events = await store.open();
  assert.deepEqual(events.map((e) => e.id), ['e1', 'e2']);
  assert.equal(store.health().degraded, true);
  assert.match(store.health().reason, /checkpoint failed: ENOSPC/);
  full = false;
  store.append(event(3));
  await store.durable();
  store.checkpoint();
  assert.equal(store.health().degraded, false);
  store.close();
  const again = new LedgerStore({ dir });
  assert.deepEqual((await again.open()).map((e) => e.id), ['e1', 'e2', 'e3'], 'the line appended after the torn one is whole');
  again.close();
});
