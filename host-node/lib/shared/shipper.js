// Ships this instance's usage events (from the durable outbox), signals and balance readings to
// PostgreSQL in batches: one transaction per batch, one INSERT ... SELECT FROM unnest(arrays) per
// table (any number of rows, three round trips in all), every `batchMs` or sooner when `batchMax`
// events wait. Idempotent (ON CONFLICT (id) DO NOTHING), at-least-once. The transaction takes the
// write advisory lock first, so seq values become visible in commit order and a follower reading
// "seq > high-water mark" can never skip a row that commits late. While the database is away
// batches wait and retry with backoff (250 ms doubling to 5 s); nothing is dropped from the outbox.
'use strict';
const { LOCKS, NOTIFY_CHANNEL } = require('./pg-schema');
const { checkout } = require('./pg-checkout');

const MAX_SIGNALS_QUEUED = 10000;  // signals are advisory: past this, the oldest are dropped

const INSERT_EVENTS = `INSERT INTO qg_events (id, instance, ts, provider_id, model, status, cost, tokens_in, tokens_out, tokens_cached, account)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])
  ON CONFLICT (id) DO NOTHING`;
const INSERT_SIGNALS = `INSERT INTO qg_signals (id, origin, instance, ts, provider_id, kind, status, headers, body, latency_ms, reason, account, model)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::float8[], $11::text[], $12::text[], $13::text[])
  ON CONFLICT (id) DO NOTHING`;
const UPSERT_BALANCE = `INSERT INTO qg_balances (package_id, fields, instance, polled_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (package_id) DO UPDATE SET fields = EXCLUDED.fields, instance = EXCLUDED.instance, polled_at = EXCLUDED.polled_at,
    seq = nextval('qg_balances_seq') WHERE qg_balances.polled_at <= EXCLUDED.polled_at`;

const column = (rows, f) => rows.map(f);

class Shipper {
  // ready(): resolves once the schema is migrated (rejects while the database is unreachable).
  constructor({ pool, instance, outbox, ready, batchMs = 5, batchMax = 2000, log, onUp, onDown }) {
    Object.assign(this, { pool, instance, outbox, ready, batchMs, batchMax, log, onUp, onDown });
    this.signals = [];
    this.balances = new Map();  // package id -> { fields, polled_at }
    this.timer = null;
    this.busy = false;
    this.failures = 0;
    this.stats = { batches: 0, events: 0, signals: 0, droppedSignals: 0, lastBatchMs: 0 };
    this.stopped = false;
    this.lastOkAt = 0;  // wall-clock ms of the last committed shipment
  }

  hasWork() {
    return this.outbox.pending.length > 0 || this.signals.length > 0 || this.balances.size > 0;
  }

  addSignal(signal) {
    this.signals.push(signal);
    if (this.signals.length > MAX_SIGNALS_QUEUED) {
      this.signals.splice(0, this.signals.length - MAX_SIGNALS_QUEUED);
      this.stats.droppedSignals += 1;
    }
    this.kick();
  }

  addBalance(packageId, fields, polledAt) {
    this.balances.set(packageId, { fields, polled_at: polledAt });
    this.kick();
  }

  // Schedules a shipment: after batchMs, or at once when a full batch is waiting.
  kick(delayMs = this.batchMs) {
    if (this.stopped || this.busy) return;
    if (this.outbox.pending.length >= this.batchMax) delayMs = 0;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ship();
    }, delayMs);
    this.timer.unref?.();
  }

  // One batch. Never throws; on failure the batch stays queued and a retry is scheduled.
  async ship() {
    if (this.busy || !this.hasWork()) return;
    this.busy = true;
    const events = this.outbox.pending.slice(0, this.batchMax);
    const signals = this.signals.slice(0, this.batchMax);
    const balances = [...this.balances.entries()];
    const t0 = process.hrtime.bigint();
    let client = null;
    let ok = false;
    try {
      await this.ready();
      client = await checkout(this.pool);
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.write.toString()]);
      if (events.length) {
        await client.query(INSERT_EVENTS, [column(events, (e) => e.id), column(events, () => this.instance), column(events, (e) => e.ts),
          column(events, (e) => e.provider_id), column(events, (e) => e.model), column(events, (e) => e.status), column(events, (e) => e.cost),
          column(events, (e) => e.tokens_in), column(events, (e) => e.tokens_out), column(events, (e) => e.tokens_cached || 0), column(events, (e) => e.account || '')]);
      }
      if (signals.length) {
        await client.query(INSERT_SIGNALS, [column(signals, (s) => s.id), column(signals, (s) => s.origin), column(signals, () => this.instance),
          column(signals, (s) => s.ts), column(signals, (s) => s.provider_id), column(signals, (s) => s.kind), column(signals, (s) => s.status),
          column(signals, (s) => s.headers), column(signals, (s) => s.body), column(signals, (s) => s.latency_ms), column(signals, (s) => s.reason),
          column(signals, (s) => s.account || ''), column(signals, (s) => s.model || '')]);
      }
      for (const [id, b] of balances) await client.query(UPSERT_BALANCE, [id, JSON.stringify(b.fields), this.instance, b.polled_at]);
      await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, this.instance]);
      await client.query('COMMIT');
      ok = true;
    } catch (err) {
      if (client) await client.query('ROLLBACK').catch(() => {});
      this.failures += 1;
      this.onDown?.(err);
    } finally {
      if (client) client.release(!ok);
    }
    if (ok) {
      this.outbox.shipped(events.length);
      this.signals.splice(0, signals.length);
      for (const [id, b] of balances) if (this.balances.get(id) === b) this.balances.delete(id);
      this.failures = 0;
      this.lastOkAt = Date.now();
      Object.assign(this.stats, { batches: this.stats.batches + 1, events: this.stats.events + events.length,
        signals: this.stats.signals + signals.length, lastBatchMs: Number(process.hrtime.bigint() - t0) / 1e6 });
      this.onUp?.();
    }
    this.busy = false;
    if (this.hasWork()) this.kick(ok ? this.batchMs : Math.min(5000, 250 * 2 ** Math.min(5, this.failures - 1)));
  }

  // Ships what is queued, for at most timeoutMs (used on a clean shutdown).
  async drain(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this.hasWork() && Date.now() < deadline) {
      if (!this.busy) await this.ship();
      else await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.failures) break;
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
  }
}

module.exports = { Shipper };
