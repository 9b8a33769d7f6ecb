// The gateway's default log destination (log-destination.js): lines buffered into 4 KB blocks as
// Buffers reach the file whole and in order, multibyte text intact, and what is still buffered at
// a normal exit is written by then (kill -9 may lose the last 200 ms; that is documented, and the
// ledger is separate).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { tmpDir } = require('./helpers');

test('log lines reach the file whole, in order and UTF-8 intact, also those still buffered at exit', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'gateway.log');
  // 2,000 lines (several 4 KB blocks written while running), then exit at once: the last block is
  // still in memory and must be flushed by the exit.
  const script = `
    const pino = require(${JSON.stringify(require.resolve('pino'))});
    const { logDestination } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'log-destination.js'))});
    const dest = logDestination(${JSON.stringify(file)});
    const log = pino({ base: null }, dest);
    dest.on('ready', () => {  // the file is open (as it is long before a gateway stops)
      for (let i = 0; i < 2000; i++) log.info({ i, text: 'é✓ 日本 ' + 'x'.repeat(i % 50) }, 'line');
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 2000);
  lines.forEach((l, i) => {
    const doc = JSON.parse(l);
    assert.equal(doc.i, i);
    assert.equal(doc.text, `é✓ 日本 ${'x'.repeat(i % 50)}`);
  });
});
