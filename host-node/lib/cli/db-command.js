// `quotagate db migrate` and `quotagate db status`: the shared ledger's schema (ledger.backend:
// postgres). Migrations are the ones the gateway applies on start; running them here first lets an
// operator upgrade the schema before rolling the instances. Never prints the URL's password.
'use strict';
const pg = require('pg');
const { InputError } = require('../ledger-jsonl');
const { migrate, schemaStatus } = require('../shared/pg-schema');
const { Redactor } = require('../redact');
const { requiredConfig } = require('./cli-config');

function postgresConfig(opts) {
  const { file, config } = requiredConfig(opts);
  if (config.ledger.backend !== 'postgres') throw new InputError(`${file}: ledger.backend: expected postgres for "quotagate db", got "${config.ledger.backend}"`);
  return config.ledger.postgres;
}

async function withClient(settings, fn) {
  const redactor = new Redactor([settings.url, settings.password]);
  const client = new pg.Client({ connectionString: settings.url, connectionTimeoutMillis: settings.connect_timeout_ms, application_name: 'quotagate cli' });
  client.on('error', () => {});  // surfaced by the query that fails
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw new InputError(`postgres: ${redactor.text(err.message || String(err))}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function dbMigrate(opts, out = process.stdout) {
  const r = await withClient(postgresConfig(opts), migrate);
  out.write(r.applied.length ? `applied ${r.applied.map((v) => `v${v}`).join(', ')}; schema at v${r.version}\n` : `schema already at v${r.version}; nothing to apply\n`);
  return r;
}

async function dbStatus(opts, out = process.stdout) {
  const s = await withClient(postgresConfig(opts), schemaStatus);
  if (opts.json) {
    out.write(`${JSON.stringify(s, null, 2)}\n`);
    return s;
  }
  out.write(`schema: v${s.version} (this quotagate knows v${s.latest})${s.pending.length ? `; pending: ${s.pending.map((m) => `v${m.version} ${m.name}`).join(', ')} (run "quotagate db migrate")` : ''}\n`);
  out.write(`poller leader: ${s.poller_leader || 'none'}\n`);
  if (!s.instances.length) out.write('instances: none yet\n');
  for (const i of s.instances) out.write(`instance ${i.instance}: ${i.events} events, last event ${i.last_event_at || '-'}, last seen ${i.last_seen}\n`);
  return s;
}

module.exports = { dbMigrate, dbStatus };
