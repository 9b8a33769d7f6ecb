// What the shared ledger costs PostgreSQL, measured on this machine for docs/scale-out.md: the
// shipper's transaction (write lock + INSERT ... SELECT FROM unnest) at several batch sizes, four
// shippers contending for the lock, COPY for comparison, the follower's paged read, and the bytes
// each event takes on disk. A throwaway server with fsync on (honest commit costs).
'use strict';
const pg = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');
const { startPostgres } = require('../host-node/test/pg-server');
const { migrate, LOCKS } = require('../host-node/lib/shared/pg-schema');

const INSERT = `INSERT INTO qg_events (id, instance, ts, provider_id, model, status, cost, tokens_in, tokens_out)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::bigint[], $9::bigint[])
  ON CONFLICT (id) DO NOTHING`;

let counter = 0;
function batch(n, instance) {
  const cols = [[], [], [], [], [], [], [], [], []];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const k = counter++;
    const row = [`${k.toString(36)}-0123456789abcdef:provider`, instance, now + i, 'anthropic', 'claude-sonnet-4-5', 200, 0.0042, 1200, 350];
    row.forEach((v, c) => cols[c].push(v));
  }
  return cols;
}

async function ship(client, n, instance) {
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.write.toString()]);
  await client.query(INSERT, batch(n, instance));
  await client.query('SELECT pg_notify($1, $2)', ['qg_ledger', instance]);
  await client.query('COMMIT');
}

async function shipFor(client, n, ms, instance) {
  let events = 0, txns = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    await ship(client, n, instance);
    events += n;
    txns++;
  }
  const s = (Date.now() - t0) / 1000;
  return { eventsPerS: events / s, msPerTxn: (s * 1000) / txns };
}

async function runPgIngestBench({ seconds = 1.5 } = {}) {
  const server = await startPostgres({ fsync: true });
  const clients = [];
  const connect = async () => {
    const c = new pg.Client(server.url);
    await c.connect();
    clients.push(c);
    return c;
  };
  const rows = [];
  try {
    const main = await connect();
    await migrate(main);
    for (const n of [1, 10, 100, 1000, 5000]) {
      const r = await shipFor(main, n, seconds * 1000, 'bench-a');
      rows.push({ name: `pg ship: batch ${n} events/txn`, mean: r.msPerTxn * 1000, note: `${Math.round(r.eventsPerS)} events/s on one connection` });
    }
    const four = await Promise.all([1, 2, 3, 4].map(() => connect()));
    const results = await Promise.all(four.map((c, i) => shipFor(c, 100, seconds * 1000, `bench-${i}`)));
    const total = results.reduce((a, r) => a + r.eventsPerS, 0);
    rows.push({ name: 'pg ship: 4 shippers, batch 100, one lock', mean: results[0].msPerTxn * 1000, note: `${Math.round(total)} events/s in all (the write lock serialises them)` });

    const copyN = 100000;
    const t0 = Date.now();
    const stream = main.query(copyFrom('COPY qg_events (id, instance, ts, provider_id, model, status, cost, tokens_in, tokens_out) FROM STDIN'));
    const now = Date.now();
    await pipeline(Readable.from((function* gen() {
      for (let i = 0; i < copyN; i += 1000) {
        let chunk = '';
        for (let k = i; k < i + 1000; k++) chunk += `copy-${k}-0123456789abcdef:provider\tbench-copy\t${now + k}\tanthropic\tclaude-sonnet-4-5\t200\t0.0042\t1200\t350\n`;
        yield chunk;
      }
    })()), stream);
    const copyS = (Date.now() - t0) / 1000;
    rows.push({ name: `pg COPY: ${copyN} events in one statement`, mean: copyS * 1e6, note: `${Math.round(copyN / copyS)} events/s` });

    const count = Number((await main.query('SELECT count(*) AS n FROM qg_events')).rows[0].n);
    const bytes = Number((await main.query("SELECT pg_total_relation_size('qg_events') AS b")).rows[0].b);
    rows.push({ name: 'pg storage per event (table + indexes)', note: `${Math.round(bytes / count)} bytes/event over ${count} events` });

    let hwm = 0, read = 0;
    const r0 = Date.now();
    for (;;) {
      const page = await main.query('SELECT seq, id, instance, ts, provider_id, model, status, cost, tokens_in, tokens_out FROM qg_events WHERE seq > $1 ORDER BY seq LIMIT 5000', [hwm]);
      if (!page.rows.length) break;
      read += page.rows.length;
      hwm = Number(page.rows[page.rows.length - 1].seq);
    }
    const readS = (Date.now() - r0) / 1000;
    rows.push({ name: 'pg follow: pages of 5000 by seq', mean: (readS * 1e6) / (read / 5000), note: `${Math.round(read / readS)} events/s read into Node (${read} events)` });
  } finally {
    for (const c of clients) await c.end().catch(() => {});
    server.destroy();
  }
  return rows;
}

module.exports = { runPgIngestBench };

if (require.main === module) {
  runPgIngestBench().then((rows) => {
    for (const r of rows) console.log(r.name.padEnd(46), r.mean !== undefined ? r.mean.toFixed(0).padStart(10) : ''.padStart(10), r.note);
  });
}
