// Where the gateway's pino logs go by default: stdout (or a file), written asynchronously in
// blocks of at least 4 KB, and at least every 200 ms. A write per line cost ~100 us of CPU per
// request at concurrency 1 (one thread-pool write each); buffered, the per-request line costs its
// serialisation plus a share of one write. On a normal exit pino flushes what is buffered; a
// kill -9 can lose the last 200 ms of log lines, never a usage event (the ledger is separate).
'use strict';
const pino = require('pino');

const MIN_WRITE_BYTES = 4096;
const FLUSH_EVERY_MS = 200;

function logDestination(dest = 1) {
  return pino.destination({ dest, sync: false, minLength: MIN_WRITE_BYTES, periodicFlush: FLUSH_EVERY_MS });
}

module.exports = { logDestination };
