// Alerts, wired: every intervalMs the service reads the quotas document (the engine's statuses with
// the poller's errors and the ledger's health), asks each target's tracker what changed, and hands
// the messages to the delivery queue. It runs off the request path (a timer) and only where
// `isLeader()` holds: with the PostgreSQL ledger only the elected instance sends, so N instances
// send one message. What each target has been told is kept (alerts-state.json beside the ledger,
// or qg_settings in PostgreSQL) so that a restart or a new leader does not send it again.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { AlertTracker } = require('./alert-tracker');
const { render } = require('./alert-messages');
const { writeAtomic } = require('../atomic-write');

const STATE_FILE = 'alerts-state.json';
const PG_KEY = 'alerts_state';

// The trackers' memory in a file (atomic replacement). load() -> object or null; save(JSON text).
class FileAlertState {
  constructor(dir, log) {
    this.file = path.join(dir, STATE_FILE);
    this.log = log;
  }

  async load() {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (err) {
      if (err.code !== 'ENOENT') this.log?.warn({ file: this.file, err: err.message }, 'alert state unreadable; starting afresh (current conditions are sent once)');
      return null;
    }
  }

  async save(text) {
    writeAtomic(this.file, text);
  }
}

// The same in the fleet's qg_settings table (pool: the PostgreSQL ledger's pg.Pool).
class PgAlertState {
  constructor(pool) {
    this.pool = pool;
  }

  async load() {
    const { rows } = await this.pool.query('SELECT value FROM qg_settings WHERE key = $1', [PG_KEY]);
    return rows.length ? JSON.parse(rows[0].value) : null;
  }

  async save(text) {
    await this.pool.query('INSERT INTO qg_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [PG_KEY, text]);
  }
}

class AlertService {
  // targets: normalised alerts[]; quotas: () => the /api/quotas document; isLeader: () => bool;
  // store: FileAlertState | PgAlertState; delivery: AlertDelivery; dashboardUrl: the default link.
  constructor({ targets, quotas, isLeader = () => true, store, delivery, log, redactor, now = Date.now, intervalMs = 15000, dashboardUrl = null }) {
    Object.assign(this, { targets, quotas, isLeader, store, delivery, log, redactor, now, intervalMs, dashboardUrl });
    this.trackers = new Map(targets.map((t) => [t.name, new AlertTracker(t)]));
    this.loaded = false;
    this.timer = null;
    this.running = null;
    this.savedText = null;  // the memory as last written
  }

  start() {
    if (!this.targets.length) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
    setImmediate(() => this.tick());
  }

  tick() {
    if (this.running) return this.running;
    this.running = this.evaluate().catch((err) => {
      this.log?.error({ err: this.redact(err.message || String(err)) }, 'alert evaluation failed');
    }).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  redact(text) {
    return this.redactor ? this.redactor.text(text) : text;
  }

  // One reading: returns the number of messages queued. Not the leader: nothing (and the memory
  // is read again when it becomes one, since the previous leader may have sent meanwhile).
  async evaluate() {
    if (!this.isLeader()) {
      this.loaded = false;
      return 0;
    }
    if (!this.loaded) {
      const state = await this.store?.load().catch((err) => {
        this.log?.warn({ err: this.redact(err.message) }, 'alert state not loaded; starting afresh');
        return null;
      });
      for (const [name, tracker] of this.trackers) tracker.load(state && state.targets && state.targets[name]);
      this.loaded = true;
    }
    const now = this.now();
    const doc = this.quotas();
    let queued = 0;
    for (const target of this.targets) {
      for (const t of this.trackers.get(target.name).evaluate(doc, now)) {
        const request = render(target.format, t, now, target.dashboard_url || this.dashboardUrl);
        // Never delivered: the transition is not told, so a condition that still holds is sent
        // again once min_interval_s has passed (a webhook that was down hears of it).
        const tracker = this.trackers.get(target.name);
        this.delivery.enqueue({ target, event: t.event, request: { ...request, body: this.redact(request.body) }, onFailed: () => tracker.untold(t.key) });
        queued++;
      }
    }
    await this.save();
    return queued;
  }

  // Writes the memory when it changed since the last write (a reading that changed nothing
  // writes nothing).
  async save() {
    if (!this.store) return;
    const targets = {};
    for (const [name, tracker] of this.trackers) targets[name] = tracker.toJSON();
    const text = JSON.stringify({ version: 1, targets });
    if (text === this.savedText) return;
    try {
      await this.store.save(text);
      this.savedText = text;
    } catch (err) {
      this.log?.warn({ err: this.redact(err.message || String(err)) }, 'alert state not saved; a restart may repeat the last alerts');
    }
  }

  // `quotagate alerts test`: one sample message to every target, sent now.
  sample(target, now = this.now()) {
    const p = { package_id: 'sample-package', provider_id: 'sample-provider', package_type: 'rolling_window', unit: 'requests', alert: 'use_or_lose',
      remaining: 30, total: 45, expiring_capacity: 22, reset_at: new Date(now + 2 * 3600000).toISOString(), window_hours: 5 };
    return render(target.format, { event: 'use_or_lose', key: 'sample', package: p, test: true }, now, target.dashboard_url || this.dashboardUrl);
  }

  async stop() {
    clearInterval(this.timer);
    if (this.running) await this.running;
    await this.delivery.drain(5000);
    this.delivery.close();
    if (this.loaded) await this.save();
  }
}

module.exports = { AlertService, FileAlertState, PgAlertState, STATE_FILE };
