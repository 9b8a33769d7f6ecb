// Group commit (lib/journal-writer.js): lines appended in one event-loop turn reach the file in
// one write; durable() resolves only once they are there; a failed write rejects the waiters and
// the retry leaves the file a clean prefix of the lines (nothing torn, nothing twice); and a
// gateway whose journal cannot be written never answers a request with success.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { JournalWriter } = require('../lib/journal-writer');
const { tmpDir, startTestGateway, postJson, chat } = require('./helpers');

function openJournal() {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const fd = fs.openSync(file, 'a');
  return { file, fd, lines: () => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) };
}

// Counts fs.writeSync / fs.fdatasyncSync calls on fd while fn runs. fault(realWriteSync, args, n),
// when given, stands in for each write on fd.
async function counting(fd, fn, fault = null) {
  const { writeSync, fdatasyncSync } = fs;
  const calls = { write: 0, fdatasync: 0 };
  fs.writeSync = function patched(f, ...rest) {
    if (f === fd) {
      calls.write++;
      if (fault) return fault(writeSync, rest, calls.write);
    }
    return writeSync.call(fs, f, ...rest);
  };
  fs.fdatasyncSync = function patched(f) {
    if (f === fd) calls.fdatasync++;
    return fdatasyncSync.call(fs, f);
  };
  try {
    await fn();
  } finally {
    Object.assign(fs, { writeSync, fdatasyncSync });
  }
  return calls;
}

test('lines appended in one turn reach the file in one write, and durable() waits for it', async () => {
  const j = openJournal();
  const writer = new JournalWriter();
  writer.setFd(j.fd);
  const calls = await counting(j.fd, async () => {
    for (let i = 0; i < 100; i++) writer.append(`{"i":${i}}\n`);
    assert.deepEqual(j.lines(), [], 'nothing is written before the turn ends');
    const waiting = writer.durable();
    let resolved = false;
    waiting.then(() => { resolved = true; });
    await Promise.resolve();
    assert.equal(resolved, false, 'durable() is still pending while the lines are queued');
    await waiting;
    assert.deepEqual(j.lines(), Array.from({ length: 100 }, (_, i) => `{"i":${i}}`));
  });
  assert.equal(calls.write, 1);
  assert.equal(calls.fdatasync, 0);
  await writer.durable();  // nothing queued: resolves at once
});

test('durable(true) writes at once, taking along whatever else was queued', async () => {
  const j = openJournal();
  const writer = new JournalWriter();
  writer.setFd(j.fd);
  const calls = await counting(j.fd, async () => {
    writer.append('{"a":1}\n');
    const batched = writer.durable();
    writer.append('{"b":2}\n');
    const now = writer.durable(true);
    assert.deepEqual(j.lines(), ['{"a":1}', '{"b":2}'], 'written before durable(true) returned');
    await Promise.all([batched, now]);
    await new Promise((resolve) => setImmediate(resolve));
  });
  assert.equal(calls.write, 1, 'the scheduled group write found nothing left to write');
  const readOnly = fs.openSync(j.file, 'r');
  writer.setFd(readOnly);
  writer.append('{"c":3}\n');
  await assert.rejects(writer.durable(true), { code: 'EBADF' });
  fs.closeSync(readOnly);
});

test('with fsync, each group write is followed by one fdatasync', async () => {
  const j = openJournal();
  const writer = new JournalWriter({ fsync: true });
  writer.setFd(j.fd);
  const calls = await counting(j.fd, async () => {
    for (let i = 0; i < 10; i++) writer.append(`{"i":${i}}\n`);
    await writer.durable();
    writer.append('{"i":10}\n');
    await writer.durable();
  });
  assert.deepEqual(calls, { write: 2, fdatasync: 2 });
  assert.equal(j.lines().length, 11);
});

test('a write that fails part-way rejects its waiters, and the retry completes the file without tearing or repeating a line', async () => {
  const j = openJournal();
  const writer = new JournalWriter();
  writer.setFd(j.fd);
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  await counting(j.fd, async () => {
    writer.append('{"a":1}\n');
    writer.append('{"b":2}\n');
    await assert.rejects(writer.durable(), /ENOSPC/);
  }, (realWriteSync, [data, off], n) => {
    if (n === 1) return realWriteSync(j.fd, data, off, 5);  // 5 of 16 bytes, then the disk is full
    throw enospc;
  });
  assert.equal(fs.readFileSync(j.file, 'utf8'), '{"a":', 'only the bytes that made it are there');
  writer.append('{"c":3}\n');
  await writer.durable();
  assert.deepEqual(j.lines(), ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a gateway whose journal cannot be written answers 503 ledger_unavailable, never success', async () => {
  // No checkpoint during the test: a checkpoint seals the journal and opens a new file, which would
  // replace the broken descriptor injected below (a race on a slow machine, seen in CI).
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: { a: { provider_id: 'a', package_type: 'daily', limit_per_day: 100, models: ['*'] } },
    ledger: { checkpoint_interval_s: 3600 } });
  try {
    const ok = await postJson(`${gw.url}/v1/chat/completions`, chat('auto'));
    assert.equal(ok.status, 200);
    const broken = fs.openSync(path.join(gw.dir, 'readonly'), 'w');
    fs.closeSync(broken);
    const readOnly = fs.openSync(path.join(gw.dir, 'readonly'), 'r');  // write() on it fails with EBADF
    gw.ledger.journal.setFd(readOnly);
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('auto'));
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'ledger_unavailable');
    assert.match(r.json.error.message, /usage ledger unavailable: EBADF/);
    assert.match(gw.logs.text(), /journal write failed/);
    const health = await (await fetch(`${gw.url}/health`)).json();
    assert.deepEqual([health.status, health.ledger.reason], ['degraded', 'usage journal cannot be written (EBADF)']);
    const refused = await postJson(`${gw.url}/v1/chat/completions`, chat('auto'));
    assert.equal(refused.status, 503, 'refused before any upstream is called while the journal fails');
    assert.equal(gw.fakes.a.received, 2, 'the upstream was not called for the refused request');
    gw.ledger.journal.setFd(gw.ledger.journalFd);
    const again = await postJson(`${gw.url}/v1/chat/completions`, chat('auto'));
    assert.equal(again.status, 200, 'serves again once the journal can be written');
    const ids = fs.readFileSync(path.join(gw.dir, 'ledger', 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
    assert.equal(new Set(ids).size, ids.length, 'no line written twice');
    fs.closeSync(readOnly);
  } finally {
    await gw.stop();
  }
});
