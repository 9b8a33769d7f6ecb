// Elects the one instance that polls balance APIs: whoever holds a session-level PostgreSQL
// advisory lock. The lock lives as long as the holder's connection, so a dead or partitioned
// leader loses it when its session ends, and another instance takes it on its next try (every
// `intervalMs`). A leader checks its session every interval too and steps down the moment the
// check fails, so two pollers never run on purpose; while the database is unreachable nobody is
// elected and balances keep their last reading.
'use strict';
const { LOCKS } = require('./pg-schema');

class LeaderElection {
  constructor({ makeClient, intervalMs = 5000, log, onElected, onDemoted }) {
    Object.assign(this, { makeClient, intervalMs, log, onElected, onDemoted });
    this.client = null;
    this.leader = false;
    this.busy = false;
    this.timer = null;
  }

  start() {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
    return this.tick();
  }

  async tick() {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (!this.client) {
        const client = this.makeClient();
        client.on('error', (err) => this.lose(client, err));
        client.on('end', () => this.lose(client, new Error('session ended')));
        this.client = client;
        await client.connect();
      }
      if (this.leader) {
        await this.client.query('SELECT 1');
      } else {
        const r = await this.client.query('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS.poller.toString()]);
        if (r.rows[0].ok && !this.stopped) {
          this.leader = true;
          this.log?.info('elected balance poller');
          this.onElected?.();
        }
      }
    } catch (err) {
      this.lose(this.client, err);
    } finally {
      this.busy = false;
    }
  }

  lose(client, err) {
    if (!client || client !== this.client) return;
    this.client = null;
    client.end().catch(() => {});
    if (this.leader) {
      this.leader = false;
      this.log?.warn({ err: err && err.message }, 'lost the balance poller lock; polling stops until re-elected');
      this.onDemoted?.();
    }
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (this.leader) {
      this.leader = false;
      this.onDemoted?.();
    }
    if (client) await client.end().catch(() => {});  // ends the session: the lock is released
  }
}

module.exports = { LeaderElection };
