// The shared PostgreSQL schema and its versioned migrations. Migrations run in one transaction
// under an advisory lock, so several instances starting at once apply each version exactly once;
// a version that is already recorded is never run again. Units: every ts is ms since the epoch
// (UTC); cost is in the provider's price currency (USD unless the catalog says otherwise).
'use strict';

// Advisory lock keys (one 64-bit space per database). Arbitrary but fixed: 'qgat' in ASCII + n.
const LOCKS = {
  migrate: 0x71676174_0001n,  // schema migrations
  write: 0x71676174_0002n,    // serialises shipments so that seq order is commit order (see follower)
  poller: 0x71676174_0003n,   // the one balance poller
};

const NOTIFY_CHANNEL = 'qg_ledger';

const MIGRATIONS = [
  {
    version: 1,
    name: 'events, signals, balances, instances',
    sql: `
CREATE TABLE qg_events (
  seq         bigserial PRIMARY KEY,
  id          text NOT NULL UNIQUE,
  instance    text NOT NULL,
  ts          bigint NOT NULL,
  provider_id text NOT NULL,
  model       text NOT NULL,
  status      integer NOT NULL,
  cost        double precision NOT NULL,
  tokens_in   bigint NOT NULL,
  tokens_out  bigint NOT NULL,
  shipped_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qg_events_ts ON qg_events (ts);
CREATE TABLE qg_signals (
  seq         bigserial PRIMARY KEY,
  id          text NOT NULL UNIQUE,
  origin      text NOT NULL,
  instance    text NOT NULL,
  ts          bigint NOT NULL,
  provider_id text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('observe', 'failure')),
  status      integer NOT NULL DEFAULT 0,
  headers     text NOT NULL DEFAULT '',
  body        text NOT NULL DEFAULT '',
  latency_ms  double precision NOT NULL DEFAULT -1,
  reason      text NOT NULL DEFAULT ''
);
CREATE INDEX qg_signals_ts ON qg_signals (ts);
CREATE SEQUENCE qg_balances_seq;
CREATE TABLE qg_balances (
  package_id  text PRIMARY KEY,
  fields      jsonb NOT NULL,
  instance    text NOT NULL,
  polled_at   bigint NOT NULL,
  seq         bigint NOT NULL DEFAULT nextval('qg_balances_seq')
);
CREATE TABLE qg_instances (
  instance    text PRIMARY KEY,
  started_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  version     text NOT NULL DEFAULT ''
);`,
  },
  {
    version: 2,
    name: 'cached input tokens per event',
    sql: 'ALTER TABLE qg_events ADD COLUMN tokens_cached bigint NOT NULL DEFAULT 0;',
  },
  {
    version: 3,
    name: 'accounts of events and signals, the fleet account secret',
    // qg_settings.account_secret: the HMAC key of credential fingerprints, one per fleet, so that
    // every instance gives one credential the same account (accounts.js).
    sql: `ALTER TABLE qg_events ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE qg_signals ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE qg_signals ADD COLUMN model text NOT NULL DEFAULT '';
CREATE TABLE qg_settings (key text PRIMARY KEY, value text NOT NULL);`,
  },
];

const LATEST = MIGRATIONS[MIGRATIONS.length - 1].version;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS qg_schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;

// Applies what is missing. Returns { applied: [versions], version }. Throws on a database error
// (the transaction is rolled back: a half-applied version never stays).
async function migrate(client) {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.migrate.toString()]);
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query('SELECT version FROM qg_schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const newer = [...done].filter((v) => v > LATEST);
    if (newer.length) throw new Error(`the database schema is at version ${Math.max(...newer)}, newer than this quotagate knows (${LATEST}); upgrade quotagate`);
    const applied = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO qg_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied, version: LATEST };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

// What `quotagate db status` prints: schema version, pending migrations, volume per instance and
// who holds the poller lock.
async function schemaStatus(client) {
  const exists = (await client.query("SELECT to_regclass('qg_schema_migrations') IS NOT NULL AS ok")).rows[0].ok;
  const versions = exists ? (await client.query('SELECT version, name, applied_at FROM qg_schema_migrations ORDER BY version')).rows : [];
  const done = new Set(versions.map((v) => v.version));
  const out = {
    version: versions.length ? versions[versions.length - 1].version : 0,
    latest: LATEST,
    applied: versions.map((v) => ({ version: v.version, name: v.name, applied_at: v.applied_at.toISOString() })),
    pending: MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => ({ version: m.version, name: m.name })),
    instances: [],
    poller_leader: null,
  };
  if (!done.has(1)) return out;
  const { rows } = await client.query(`SELECT i.instance, i.started_at, i.last_seen,
      (SELECT count(*) FROM qg_events e WHERE e.instance = i.instance) AS events,
      (SELECT max(ts) FROM qg_events e WHERE e.instance = i.instance) AS last_event_ts
    FROM qg_instances i ORDER BY i.instance`);
  out.instances = rows.map((r) => ({ instance: r.instance, started_at: r.started_at.toISOString(), last_seen: r.last_seen.toISOString(),
    events: Number(r.events), last_event_at: r.last_event_ts === null ? null : new Date(Number(r.last_event_ts)).toISOString() }));
  const key = LOCKS.poller;
  const leader = await client.query(`SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid`, [Number(key >> 32n), Number(key & 0xffffffffn)]);
  out.poller_leader = leader.rows.length ? leader.rows[0].application_name.replace(/^quotagate /, '') : null;
  return out;
}

module.exports = { migrate, schemaStatus, MIGRATIONS, LATEST, LOCKS, NOTIFY_CHANNEL };
