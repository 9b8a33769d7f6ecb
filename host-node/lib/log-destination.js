// Where the gateway's pino logs go by default: stdout (or a file), written asynchronously in
// blocks of at least 4 KB, and at least every 200 ms. A write per line cost ~100 us of CPU per
// request at concurrency 1 (one thread-pool write each); buffered, the per-request line costs its
// serialisation plus a share of one write. On a normal exit pino flushes what is buffered; a
// kill -9 can lose the last 200 ms of log lines, never a usage event (the ledger is separate).
//
// The block is kept as Buffers (sonic-boom's buffer mode), each line encoded once: in its text
// mode sonic-boom appends each line to one growing string and measures that string's byte length
// on every write, which flattens it (~2 KB of garbage a line at 4 KB blocks; a 300k-line micro
// bench: 274 young-generation collections in text mode, 97 in buffer mode).
'use strict';
const pino = require('pino');

const MIN_WRITE_BYTES = 4096;
const FLUSH_EVERY_MS = 200;

// pino writes strings; the destination takes Buffers. Everything else is the SonicBoom's (its
// flush at exit is registered by pino.destination).
class LineEncoder {
  constructor(boom) {
    this.boom = boom;
  }

  write(line) {
    return this.boom.write(Buffer.from(line, 'utf8'));
  }

  flush(cb) {
    this.boom.flush(cb);
  }

  flushSync() {
    this.boom.flushSync();
  }

  end() {
    this.boom.end();
  }

  on(event, listener) {
    this.boom.on(event, listener);
    return this;
  }
}

// dest: a file descriptor (1 = stdout) or a file path.
function logDestination(dest = 1) {
  return new LineEncoder(pino.destination({ dest, sync: false, minLength: MIN_WRITE_BYTES, periodicFlush: FLUSH_EVERY_MS, contentMode: 'buffer' }));
}

module.exports = { logDestination };
