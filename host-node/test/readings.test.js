// Provider readings written off the event loop (readings.js with atomic-write.js
// writeAtomicAsync): the file ends with the newest readings however flushes overlap, close()
// resolves once they are in it, a failed write is logged and retried, and no temp file is left.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir } = require('./helpers');
const { ReadingsStore } = require('../lib/readings');
const { writeAtomicAsync } = require('../lib/atomic-write');

const reading = (n) => ({ provider: 'p', account: '', model: 'm', status: 200, headers: Buffer.from(`x-ratelimit-remaining-requests: ${n}\n`),
  body: '', dialect: 'openai', ts: Date.now() + n });

test('overlapping flushes end with the newest readings; close() resolves once they are written', async () => {
  const dir = tmpDir();
  const store = new ReadingsStore({ dir, intervalMs: 60000 });
  const flushes = [];
  for (let n = 1; n <= 20; n++) {
    store.note(reading(n));
    flushes.push(store.flush());  // most start while another write runs
  }
  store.note(reading(21));
  await store.close();
  await Promise.all(flushes);
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'readings.json'), 'utf8'));
  assert.equal(doc.readings.length, 1);
  assert.equal(doc.readings[0].headers, 'x-ratelimit-remaining-requests: 21\n', 'decoded from the Buffer, the newest');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  const again = new ReadingsStore({ dir, intervalMs: 60000 });
  assert.equal(again.load()[0].headers, 'x-ratelimit-remaining-requests: 21\n');
  await again.close();
});

test('a failed write is logged, leaves no temp file, and the next flush writes the readings', async () => {
  const dir = tmpDir();
  const warnings = [];
  const store = new ReadingsStore({ dir, intervalMs: 60000, log: { warn: (o, msg) => warnings.push([o, msg]) } });
  fs.mkdirSync(path.join(dir, 'readings.json'));  // a directory where the file goes: rename fails
  store.note(reading(1));
  await store.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0][1], /provider readings not saved/);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  fs.rmdirSync(path.join(dir, 'readings.json'));
  await store.flush();  // still dirty: written now
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'readings.json'), 'utf8')).readings.length, 1);
  await store.close();
});

test('writeAtomicAsync replaces a file whole and keeps its mode', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'f.json');
  fs.writeFileSync(file, 'old', { mode: 0o600 });
  await writeAtomicAsync(file, Buffer.from('x'.repeat(3 * 1024 * 1024)));
  assert.equal(fs.statSync(file).size, 3 * 1024 * 1024);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  await assert.rejects(writeAtomicAsync(path.join(dir, 'missing', 'g.json'), 'x'), { code: 'ENOENT' });
  assert.deepEqual(fs.readdirSync(dir), ['f.json']);
});
