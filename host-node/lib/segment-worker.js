// The ledger's segment worker (worker_threads): owns the open SQLite segment (segment-store.js)
// so that inserting, exporting and writing it never holds the gateway's event loop. Messages from
// ledger-store.js: {id, op, args}; answers: {id, result} or {id, error: {message, code}}.
//   open  {dir, segmentEvents, seq}  -> reads (or starts) segment `seq`
//   store {files}                    -> stores the events of these sealed journals: {closed, ms}
//   skipClosed {fromTs}              -> skip ids already in closed segments newer than fromTs
//   close {}
'use strict';
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
const { SegmentStore, SEGMENT_RE, loadSql, readSegment } = require('./segment-store');
const { validEvent } = require('./ledger-event');

let store = null;

const ops = {
  async open({ dir, segmentEvents, seq }) {
    store = new SegmentStore({ dir, segmentEvents });
    await store.open(seq);
    return { seq: store.current.seq };
  },
  store({ files }) {
    const t0 = process.hrtime.bigint();
    const events = [];
    for (const file of files) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        let e;
        try {
          e = validEvent(JSON.parse(line));
        } catch {
          continue;  // a line torn by a failed write was never acknowledged (the replay skips it too)
        }
        if (e) events.push(e);
      }
    }
    const { closed } = store.store(events);
    return { closed, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  },
  async skipClosed({ fromTs }) {
    const SQL = await loadSql();
    const ids = new Set();
    for (const name of fs.readdirSync(store.dir)) {
      const m = SEGMENT_RE.exec(name);
      if (!m || Number(m[1]) >= store.current.seq) continue;
      const db = readSegment(SQL, store.dir, Number(m[1]), null);
      if (!db) continue;
      const r = db.exec('SELECT id FROM events WHERE ts >= ?', [fromTs - 3600000]);
      if (r.length) for (const row of r[0].values) ids.add(row[0]);
      db.close();
    }
    store.skip = ids.size ? ids : null;
    return { ids: ids.size };
  },
  confirm() {
    store.confirm();
    return {};
  },
  close() {
    if (store) store.close();
    store = null;
    return {};
  },
};

parentPort.on('message', async ({ id, op, args }) => {
  try {
    const result = await ops[op](args);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code } });
  }
});
