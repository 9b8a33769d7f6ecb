// Follows the shared tables and hands other instances' rows to the engine. Woken by LISTEN/NOTIFY
// (a shipment notifies on commit) and, as the fallback, by a timer every `intervalMs`. Reads are
// "seq > high-water mark ORDER BY seq": shipments hold the write lock until they commit, so seq
// order is commit order and nothing is skipped. Usage events of our own instance are skipped (the
// local ledger has them); signals are skipped by origin (this process), so a restarted instance
// replays its own earlier 429s and learned limits too.
'use strict';
const { NOTIFY_CHANNEL } = require('./pg-schema');
const { checkout } = require('./pg-checkout');

const PAGE = 5000;
const SIGNAL_HORIZON_MS = 6 * 3600 * 1000;  // signals older than this change nothing worth replaying

const toEvent = (r) => ({ id: r.id, ts: Number(r.ts), provider_id: r.provider_id, model: r.model, status: r.status,
  cost: r.cost, tokens_in: Number(r.tokens_in), tokens_out: Number(r.tokens_out), tokens_cached: Number(r.tokens_cached || 0), account: r.account || '' });
const toSignal = (r) => ({ ts: Number(r.ts), provider_id: r.provider_id, kind: r.kind, status: r.status, headers: r.headers,
  body: r.body, latency_ms: r.latency_ms, reason: r.reason, instance: r.instance, account: r.account || '', model: r.model || '' });
const toBalance = (r) => ({ package_id: r.package_id, fields: r.fields, polled_at: Number(r.polled_at), instance: r.instance });

const EVENT_COLS = 'seq, id, instance, ts, provider_id, model, status, cost, tokens_in, tokens_out, tokens_cached, account';
const SIGNAL_COLS = 'seq, origin, instance, ts, provider_id, kind, status, headers, body, latency_ms, reason, account, model';

class Follower {
  constructor({ pool, makeClient, instance, origin, ready, retentionMs, intervalMs = 250, now = Date.now, log, onUp, onDown }) {
    Object.assign(this, { pool, makeClient, instance, origin, ready, retentionMs, intervalMs, now, log, onUp, onDown });
    this.hwm = null;  // { events, signals, balances } once seeded
    this.handlers = null;
    this.busy = false;
    this.again = false;
    this.listener = null;
    this.timer = null;
    this.stopped = false;
    this.lastOkAt = 0;  // wall-clock ms of the last successful read
    this.stats = { events: 0, signals: 0, balances: 0 };
  }

  // Reads everything within retention in one snapshot and sets the high-water marks.
  // Returns { events, signals, balances } (events and signals in ts order).
  async seed() {
    await this.ready();
    const client = await checkout(this.pool);
    let ok = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const marks = (await client.query(`SELECT (SELECT coalesce(max(seq), 0) FROM qg_events) AS events,
        (SELECT coalesce(max(seq), 0) FROM qg_signals) AS signals, (SELECT coalesce(max(seq), 0) FROM qg_balances) AS balances`)).rows[0];
      const now = this.now();
      const events = (await client.query(`SELECT ${EVENT_COLS} FROM qg_events WHERE seq <= $1 AND instance <> $2 AND ts > $3 ORDER BY ts`,
        [marks.events, this.instance, now - this.retentionMs])).rows.map(toEvent);
      const signals = (await client.query(`SELECT ${SIGNAL_COLS} FROM qg_signals WHERE seq <= $1 AND origin <> $2 AND ts > $3 ORDER BY ts, seq`,
        [marks.signals, this.origin, now - SIGNAL_HORIZON_MS])).rows.map(toSignal);
      const balances = (await client.query('SELECT package_id, fields, polled_at, instance, seq FROM qg_balances WHERE seq <= $1', [marks.balances])).rows.map(toBalance);
      await client.query('COMMIT');
      ok = true;
      this.hwm = { events: Number(marks.events), signals: Number(marks.signals), balances: Number(marks.balances) };
      this.lastOkAt = Date.now();
      return { events, signals, balances };
    } finally {
      client.release(!ok);
    }
  }

  // handlers: { events(list), signals(list), balances(list) }; rows seeded before start() were
  // returned by seed() and are the caller's. Starts listening and the fallback timer; every read
  // after this point is delivered to the handlers.
  start(handlers) {
    this.handlers = handlers;
    this.timer = setInterval(() => this.fetch(), this.intervalMs);
    this.timer.unref?.();
    this.listen();
  }

  async listen() {
    if (this.stopped || this.listener) return;
    const client = this.makeClient();
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = null;
      client.end().catch(() => {});
      if (!this.stopped) setTimeout(() => this.listen(), 1000).unref?.();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.payload !== this.instance) this.fetch();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      this.fetch();  // anything committed while we were not listening
    } catch {
      lost();
    }
  }

  // Reads what is new since the marks and hands it over. Never throws; coalesces concurrent wakes.
  async fetch() {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        if (!this.hwm) {
          const seeded = await this.seed();
          this.deliver(seeded);
        } else {
          await this.readNew();
        }
      } while (this.again && !this.stopped);
      this.onUp?.();
    } catch (err) {
      this.onDown?.(err);
    } finally {
      this.busy = false;
    }
  }

  async readNew() {
    let full = true;
    while (full && !this.stopped) {
      full = false;
      const ev = await this.pool.query(`SELECT ${EVENT_COLS} FROM qg_events WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [this.hwm.events]);
      const sig = await this.pool.query(`SELECT ${SIGNAL_COLS} FROM qg_signals WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [this.hwm.signals]);
      const bal = await this.pool.query('SELECT package_id, fields, polled_at, instance, seq FROM qg_balances WHERE seq > $1 ORDER BY seq', [this.hwm.balances]);
      if (ev.rows.length) this.hwm.events = Number(ev.rows[ev.rows.length - 1].seq);
      if (sig.rows.length) this.hwm.signals = Number(sig.rows[sig.rows.length - 1].seq);
      if (bal.rows.length) this.hwm.balances = Number(bal.rows[bal.rows.length - 1].seq);
      this.deliver({
        events: ev.rows.filter((r) => r.instance !== this.instance).map(toEvent),
        signals: sig.rows.filter((r) => r.origin !== this.origin).map(toSignal),
        balances: bal.rows.map(toBalance),
      });
      full = ev.rows.length === PAGE || sig.rows.length === PAGE;
    }
    this.lastOkAt = Date.now();
  }

  deliver({ events, signals, balances }) {
    this.stats.events += events.length;
    this.stats.signals += signals.length;
    this.stats.balances += balances.length;
    if (events.length) this.handlers.events(events);
    if (signals.length) this.handlers.signals(signals);
    if (balances.length) this.handlers.balances(balances);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    const l = this.listener;
    this.listener = null;
    if (l) l.end().catch(() => {});
  }
}

module.exports = { Follower, SIGNAL_HORIZON_MS };
