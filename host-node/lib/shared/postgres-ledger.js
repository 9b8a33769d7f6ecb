// The PostgreSQL ledger backend (ledger.backend: postgres): the same interface as LedgerStore
// (open, append, checkpoint, prune, close, pending, health) plus the shared view of the fleet.
//  - append(): the event goes to the local journal (LedgerStore; durable() resolves before the
//    response completes, no network on the request path) and to the outbox; the Shipper moves the outbox
//    to PostgreSQL in batches.
//  - open(): returns our own events from the local store plus every other instance's events
//    within retention from PostgreSQL. With PostgreSQL down it returns our own and catches up later.
//  - attach(): other instances' events, signals (header readings, 429s, failures) and balance
//    readings are handed to the caller as they commit (Follower).
// Degraded (PostgreSQL unreachable, or events waiting longer than 5 s): the instance keeps serving
// from its local state; /health and /metrics say so; shipping resumes by itself.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const pg = require('pg');
const { LedgerStore } = require('../ledger-store');
const { Outbox } = require('./outbox');
const { Shipper } = require('./shipper');
const { Follower } = require('./follower');
const { migrate } = require('./pg-schema');
const { checkout } = require('./pg-checkout');

const DAY_MS = 86400000;
const DEGRADED_AFTER_MS = 5000;
const SIGNAL_RETENTION_MS = DAY_MS;

// A stable id per ledger directory: our own events are recognised across restarts by it.
function instanceIdFor(dir, configured) {
  if (configured) return configured;
  const file = path.join(dir, 'instance-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9._:-]{1,100}$/.test(id)) return id;
  } catch { /* first start */ }
  const id = `qg-${crypto.randomBytes(6).toString('hex')}`;
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

class PostgresLedger {
  // postgres: the normalised ledger.postgres config ({ url, instance_id, batch_ms, batch_max,
  // follow_interval_ms, pool_size, connect_timeout_ms }).
  constructor({ dir, retentionDays = 35, fsync = false, log = null, postgres, now = Date.now, version = '', worker = false }) {
    Object.assign(this, { dir, retentionMs: retentionDays * DAY_MS, fsync, log, cfg: postgres, now, version });
    this.backend = 'postgres';
    this.local = new LedgerStore({ dir, retentionDays, fsync, log, worker });
    this.connected = false;
    this.lastError = null;
    this.readyPromise = null;
    this.isPollerLeader = () => false;
  }

  get pending() {
    return this.local.pending;
  }

  makeClient() {
    return new pg.Client({ connectionString: this.cfg.url, application_name: `quotagate ${this.instance}`,
      connectionTimeoutMillis: this.cfg.connect_timeout_ms, keepAlive: true });
  }

  async open(nowMs = this.now()) {
    const own = await this.local.open(nowMs);
    this.instance = instanceIdFor(this.dir, this.cfg.instance_id);
    this.origin = crypto.randomUUID();
    this.outbox = new Outbox(path.join(this.dir, 'outbox.jsonl'), { fsync: this.fsync, log: this.log });
    const unshipped = this.outbox.open();
    this.pool = new pg.Pool({ connectionString: this.cfg.url, max: this.cfg.pool_size, application_name: `quotagate ${this.instance}`,
      connectionTimeoutMillis: this.cfg.connect_timeout_ms, keepAlive: true });
    this.pool.on('error', (err) => this.down(err));  // an idle client lost its server: never fatal
    const ready = () => this.ready();
    this.shipper = new Shipper({ pool: this.pool, instance: this.instance, outbox: this.outbox, ready, batchMs: this.cfg.batch_ms,
      batchMax: this.cfg.batch_max, log: this.log, onUp: () => this.up(), onDown: (err) => this.down(err) });
    this.follower = new Follower({ pool: this.pool, makeClient: () => this.makeClient(), instance: this.instance, origin: this.origin, ready,
      retentionMs: this.retentionMs, intervalMs: this.cfg.follow_interval_ms, now: this.now, log: this.log,
      onUp: () => this.up(), onDown: (err) => this.down(err) });
    let remote = [];
    try {
      const seeded = await this.follower.seed();
      remote = seeded.events;
      this.seededRest = { signals: seeded.signals, balances: seeded.balances };  // handed over by attach()
      this.up();
    } catch (err) {
      this.down(err);
    }
    this.log?.info({ instance: this.instance, own: own.length, remote: remote.length, unshipped, connected: this.connected }, 'postgres ledger opened');
    return own.concat(remote).sort((a, b) => a.ts - b.ts);
  }

  // Migrates and registers this instance once per connection episode; rejects while unreachable.
  ready() {
    if (!this.readyPromise) {
      this.readyPromise = (async () => {
        const client = await checkout(this.pool);
        let ok = false;
        try {
          const r = await migrate(client);
          if (r.applied.length) this.log?.info({ applied: r.applied, version: r.version }, 'database schema migrated');
          await client.query(`INSERT INTO qg_instances (instance, version) VALUES ($1, $2)
            ON CONFLICT (instance) DO UPDATE SET started_at = now(), last_seen = now(), version = EXCLUDED.version`, [this.instance, this.version]);
          ok = true;
        } finally {
          client.release(!ok);
        }
      })();
      this.readyPromise.catch(() => {
        this.readyPromise = null;
      });
    }
    return this.readyPromise;
  }

  up() {
    if (!this.connected) {
      if (this.lastError) this.log?.info({ unshipped: this.outbox.pending.length }, 'postgres reachable again; catching up');
      this.connected = true;
    }
  }

  down(err) {
    const message = String((err && err.message) || err);
    if (this.connected || this.lastError === null) this.log?.warn({ err: message }, 'postgres unreachable; serving from local state (degraded)');
    this.connected = false;
    this.lastError = message;
    this.readyPromise = null;
  }

  // handlers: { events(list), signals(list), balances(list) } for rows other instances commit.
  attach(handlers) {
    if (this.seededRest) {
      if (this.seededRest.signals.length) handlers.signals(this.seededRest.signals);
      if (this.seededRest.balances.length) handlers.balances(this.seededRest.balances);
      this.seededRest = null;
    }
    this.follower.start(handlers);
    this.shipper.kick();
    this.heartbeat = setInterval(() => this.beat(), 10000);
    this.heartbeat.unref?.();
  }

  async beat() {
    if (!this.connected) return;
    try {
      await this.pool.query('UPDATE qg_instances SET last_seen = now() WHERE instance = $1', [this.instance]);
    } catch (err) {
      this.down(err);
    }
  }

  append(event) {
    const e = this.local.append(event);
    this.outbox.append(e);
    this.shipper.kick();
    return e;
  }

  // Resolves once every event appended so far is in both the local journal and the outbox file.
  durable(now = false) {
    return Promise.all([this.local.durable(now), this.outbox.durable(now)]);
  }

  // A header reading, 429 or failure, for the other instances' engines. headers/body must be
  // redacted by the caller.
  shareSignal(signal) {
    this.shipper?.addSignal({ id: crypto.randomUUID(), origin: this.origin, ts: signal.ts, provider_id: signal.provider_id, kind: signal.kind,
      status: signal.status || 0, headers: signal.headers || '', body: signal.body || '', latency_ms: signal.latency_ms ?? -1, reason: signal.reason || '',
      account: signal.account || '', model: signal.model || '' });
  }

  shareBalance(packageId, fields, polledAt) {
    this.shipper?.addBalance(packageId, fields, polledAt);
  }

  onBacklog(events, handler) {
    this.local.onBacklog(events, handler);
  }

  checkpoint() {
    return this.local.checkpoint();
  }

  checkpointAsync() {
    return this.local.checkpointAsync();
  }

  get waiting() {
    return this.local.waiting;
  }

  // Local segments past retention; in PostgreSQL, only the poller leader deletes (one deleter).
  prune(nowMs = this.now()) {
    this.local.prune(nowMs);
    if (!this.connected || !this.isPollerLeader()) return;
    this.pool.query('DELETE FROM qg_events WHERE ts < $1', [nowMs - this.retentionMs])
      .then(() => this.pool.query('DELETE FROM qg_signals WHERE ts < $1', [nowMs - SIGNAL_RETENTION_MS]))
      .catch((err) => this.log?.warn({ err: err.message }, 'postgres retention delete failed; retried next time'));
  }

  // null when an event appended now can be made durable locally (see LedgerStore.writable).
  writable() {
    return this.local.writable();
  }

  health() {
    const local = this.local.health();
    // Stalled: events are waiting and no shipment has succeeded for that long.
    const waitingMs = this.outbox.pending.length ? Date.now() - Math.max(this.shipper.lastOkAt, this.outbox.pendingSince) : 0;
    const followLagMs = this.follower.lastOkAt ? Date.now() - this.follower.lastOkAt : null;
    const degraded = local.degraded || !this.connected || waitingMs > DEGRADED_AFTER_MS || followLagMs === null || followLagMs > DEGRADED_AFTER_MS;
    const reason = local.reason || (!this.connected ? 'postgres unreachable' : waitingMs > DEGRADED_AFTER_MS ? `events waiting ${waitingMs} ms to ship`
      : followLagMs === null || followLagMs > DEGRADED_AFTER_MS ? 'not following the shared ledger' : null);
    return {
      backend: 'postgres', instance: this.instance, connected: this.connected, degraded, reason,
      last_error: this.connected ? null : this.lastError,
      unshipped_events: this.outbox.pending.length, unshipped_signals: this.shipper.signals.length,
      shipping_stalled_ms: waitingMs, follow_lag_ms: followLagMs, poller_leader: this.isPollerLeader(),
      shipped: { ...this.shipper.stats }, followed: { ...this.follower.stats },
    };
  }

  async close() {
    clearInterval(this.heartbeat);
    this.follower?.stop();
    if (this.shipper) {
      this.shipper.stop();
      if (this.connected) await this.shipper.drain(2000);
    }
    await this.pool?.end().catch(() => {});
    this.outbox?.close();
    await this.local.close();
  }
}

module.exports = { PostgresLedger, instanceIdFor };
