// One test suite, two ledger backends: the embedded sql.js store and the PostgreSQL store must
// both keep every appended event across a clean restart and a crash after durable() resolved, skip only a torn last line,
// drop what is past retention, and count a replayed event once.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const pg = require('pg');
const { tmpDir } = require('./helpers');
const { startPostgres } = require('./pg-server');
const { LedgerStore } = require('../lib/ledger-store');
const { PostgresLedger } = require('../lib/shared/postgres-ledger');

const DAY = 86400000;
const NOW = Date.now();
const event = (i, ts = NOW - 1000 * (100 - i)) => ({ id: `req-${i}:up`, ts, provider_id: 'up', model: 'm', status: 200, cost: 0.001 * i, tokens_in: 10 + i, tokens_out: 5 });
const strip = (events) => events.map(({ id, ts, provider_id, model, status, cost, tokens_in, tokens_out }) => ({ id, ts, provider_id, model, status, cost, tokens_in, tokens_out }));

let server = null;
const PG_SETTINGS = { instance_id: '', batch_ms: 2, batch_max: 500, follow_interval_ms: 100, pool_size: 3, connect_timeout_ms: 2000, election_interval_ms: 500 };

const freshDatabaseUrl = () => server.freshDatabaseUrl('contract');

const BACKENDS = {
  sqljs: {
    async context() { return {}; },
    make(dir, ctx, retentionDays = 35) { return new LedgerStore({ dir, retentionDays }); },
    async crash() { /* the journal fd stays open: the next open must cope, as after kill -9 */ },
    async sharedIds() { return null; },
  },
  postgres: {
    async context() { return { url: await freshDatabaseUrl() }; },
    make(dir, ctx, retentionDays = 35) { return new PostgresLedger({ dir, retentionDays, postgres: { ...PG_SETTINGS, url: ctx.url } }); },
    // Like kill -9: timers stop, nothing is drained or checkpointed, connections just go.
    async crash(store) {
      store.follower.stop();
      store.shipper.stop();
      await store.pool.end().catch(() => {});
    },
    // The ids in the shared table, once the store (reopened and attached) has shipped its outbox.
    async sharedIds(ctx, store) {
      await store.shipper.drain(5000);
      const c = new pg.Client(ctx.url);
      await c.connect();
      const { rows } = await c.query('SELECT id FROM qg_events ORDER BY id');
      await c.end();
      return rows.map((r) => r.id);
    },
  },
};

const IGNORE = { events() {}, signals() {}, balances() {} };  // no other instance to hear from

// What a store opened afresh on `dir` returns, after which it is closed again.
async function reopened(backend, dir, ctx, retentionDays) {
  const store = backend.make(dir, ctx, retentionDays);
  const events = await store.open(NOW);
  await store.close();
  return events;
}

test.before(async () => {
  server = await startPostgres();
});
test.after(() => server && server.destroy());

for (const [name, backend] of Object.entries(BACKENDS)) {
  test(`${name}: appended events come back after a clean close and reopen`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    const store = backend.make(dir, ctx);
    assert.deepEqual(await store.open(NOW), []);
    store.attach(IGNORE);
    const appended = [];
    for (let i = 0; i < 50; i++) appended.push(store.append(event(i)));
    store.checkpoint();
    for (let i = 50; i < 60; i++) appended.push(store.append(event(i)));
    await store.close();
    assert.deepEqual(strip(await reopened(backend, dir, ctx)), strip(appended));
  });

  test(`${name}: a crash after append loses nothing`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    const store = backend.make(dir, ctx);
    await store.open(NOW);
    store.attach(IGNORE);
    const appended = [];
    for (let i = 0; i < 30; i++) appended.push(store.append(event(i)));
    await store.durable();
    await backend.crash(store);
    const again = backend.make(dir, ctx);
    const back = await again.open(NOW);
    again.attach(IGNORE);
    const shared = await backend.sharedIds(ctx, again);
    await again.close();
    assert.deepEqual(strip(back), strip(appended));
    if (shared) assert.deepEqual(shared, appended.map((e) => e.id).sort(), 'the outbox left by the crash is shipped after the restart');
  });

  test(`${name}: a torn last journal line is skipped and everything before it is kept`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    const store = backend.make(dir, ctx);
    await store.open(NOW);
    const appended = [];
    for (let i = 0; i < 5; i++) appended.push(store.append(event(i)));
    await store.durable();
    await backend.crash(store);
    fs.appendFileSync(path.join(dir, 'journal.jsonl'), '{"id":"req-torn:up","ts":');
    assert.deepEqual(strip(await reopened(backend, dir, ctx)), strip(appended));
  });

  test(`${name}: the backlog handler fires once each time the events awaiting a checkpoint reach the mark`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    const store = backend.make(dir, ctx);
    await store.open(NOW);
    store.attach(IGNORE);
    let calls = 0;
    store.onBacklog(3, () => { calls++; });
    store.append(event(1));
    store.append(event(2));
    assert.equal(calls, 0);
    store.append(event(3));
    assert.equal(calls, 1);
    store.append(event(4));
    assert.equal(calls, 1, 'not again until a checkpoint empties the backlog');
    store.checkpoint();
    for (let i = 5; i < 8; i++) store.append(event(i));
    assert.equal(calls, 2);
    await store.close();
  });

  test(`${name}: events past retention are not returned`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    const store = backend.make(dir, ctx, 35);
    await store.open(NOW);
    store.attach(IGNORE);
    store.append(event(1, NOW - 40 * DAY));
    const recent = store.append(event(2, NOW - DAY));
    await store.close();
    assert.deepEqual(strip(await reopened(backend, dir, ctx, 35)), strip([recent]));
  });

  test(`${name}: the same event appended twice (a replay) counts once`, async () => {
    const dir = tmpDir();
    const ctx = await backend.context();
    let store = backend.make(dir, ctx);
    await store.open(NOW);
    store.attach(IGNORE);
    store.append(event(7));
    store.append(event(7));
    await store.durable();
    await backend.crash(store);
    store = backend.make(dir, ctx);
    const back = await store.open(NOW);
    store.attach(IGNORE);
    const shared = await backend.sharedIds(ctx, store);
    await store.close();
    assert.equal(back.length, 1);
    if (shared) assert.deepEqual(shared, ['req-7:up']);
  });
}

test('postgres: a second instance sees the first one\'s events on open and as they commit', async () => {
  const ctx = await BACKENDS.postgres.context();
  const a = BACKENDS.postgres.make(tmpDir(), ctx);
  await a.open(NOW);
  a.attach(IGNORE);
  for (let i = 0; i < 10; i++) a.append(event(i));
  await a.shipper.drain(5000);
  const b = BACKENDS.postgres.make(tmpDir(), ctx);
  const seeded = await b.open(NOW);
  assert.equal(seeded.length, 10);
  const live = [];
  b.attach({ events: (list) => live.push(...list), signals() {}, balances() {} });
  for (let i = 10; i < 15; i++) a.append(event(i));
  const deadline = Date.now() + 5000;
  while (live.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(live.map((e) => e.id), [10, 11, 12, 13, 14].map((i) => `req-${i}:up`));
  assert.equal(b.health().degraded, false);
  await a.close();
  await b.close();
});
