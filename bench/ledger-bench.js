// The embedded ledger at 1M events: how long a checkpoint holds the event loop (it is synchronous
// by design), and how long a restart takes to read the segments back. Appends go through the real
// journal; a checkpoint runs after every 20,000 appends, which is 5 s of traffic at 4,000 req/s.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LedgerStore } = require('../host-node/lib/ledger-store');

const EVENTS = Number(process.env.QG_LEDGER_BENCH_EVENTS || 1e6);
const PER_CHECKPOINT = 20000;
// ms between events: 1 (default) puts 1,000 in a second; 2000 puts each in its own second, the
// worst case for a start that reads per-second sums (1M events then span 23 days).
const SPACING_MS = Number(process.env.QG_LEDGER_BENCH_SPACING_MS || 1);

async function runLedgerBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-ledger-bench-'));
  try {
    const t0 = Date.now();
    const store = new LedgerStore({ dir });
    await store.open(t0);
    const checkpoints = [];
    const appendStart = process.hrtime.bigint();
    for (let i = 0; i < EVENTS; i++) {
      store.append({ id: `bench-${i}:up`, ts: t0 - (EVENTS - i) * SPACING_MS, provider_id: 'up', model: 'm', status: 200, cost: 0.0001, tokens_in: 12, tokens_out: 34 });
      if ((i + 1) % PER_CHECKPOINT === 0) checkpoints.push(store.checkpoint());
    }
    const appendUs = Number(process.hrtime.bigint() - appendStart) / 1000 / EVENTS;
    store.close();
    const reopenStart = process.hrtime.bigint();
    const reopened = new LedgerStore({ dir });
    const events = await reopened.open(t0 + 1000);
    const reopenMs = Number(process.hrtime.bigint() - reopenStart) / 1e6;
    reopened.close();
    // As the gateway starts: per-second sums, from the closed segments' summaries.
    const summedStart = process.hrtime.bigint();
    const summedStore = new LedgerStore({ dir });
    const summed = await summedStore.open(t0 + 1000, { perSecond: true });
    const summedMs = Number(process.hrtime.bigint() - summedStart) / 1e6;
    summedStore.close();
    checkpoints.sort((a, b) => a - b);
    const pct = (q) => checkpoints[Math.min(checkpoints.length - 1, Math.floor(checkpoints.length * q))];
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sqlite')).length;
    return [
      { name: `ledger checkpoint of ${PER_CHECKPOINT} events`, mean: pct(0.5) * 1000, p50: pct(0.5) * 1000, p99: checkpoints[checkpoints.length - 1] * 1000,
        note: `event-loop hold in us (p99 col = the longest of ${checkpoints.length}, up to ${EVENTS} events held)` },
      { name: 'ledger append (journal write)', mean: appendUs, note: 'us per event, checkpoints included' },
      { name: `ledger reopen with ${EVENTS} events`, mean: reopenMs * 1000, note: `${(reopenMs / 1000).toFixed(2)} s for ${events.length} events in ${files} segments, event by event` },
      { name: `ledger reopen, per second (gateway start)`, mean: summedMs * 1000, note: `${(summedMs / 1000).toFixed(2)} s for ${summed.length} rows standing for ${summed.reduce((a, e) => a + (e.count || 1), 0)} events (${SPACING_MS === 1 ? '1,000 a second' : `one every ${SPACING_MS} ms`} here)` },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runLedgerBench };

if (require.main === module) {
  runLedgerBench().then((rows) => { for (const r of rows) console.log(r); });
}
