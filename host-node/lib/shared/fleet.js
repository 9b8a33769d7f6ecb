// Joins this instance to the fleet behind a shared ledger (ledger.backend: postgres): other
// instances' events and signals go into this engine, balance readings flow both ways through the
// catalog store, and the poller runs only while this instance holds the poller lock. With the
// embedded ledger there is no fleet: the poller simply runs.
'use strict';
const { LeaderElection } = require('./leader');

// The poller's view of the catalog store: its writes are also published to the fleet.
function publishingStore(store, ledger, now) {
  return {
    get doc() { return store.doc; },
    async update(patch) {
      const err = await store.update(patch);
      if (!err) for (const [id, fields] of Object.entries(patch)) ledger.shareBalance(id, fields, now());
      return err;
    },
  };
}

// Another instance's readings, merged like our own poll; never an older reading over a newer one.
async function applyRemoteBalances(store, rows, log) {
  for (const b of rows) {
    const current = store.doc && store.doc.packages ? store.doc.packages[b.package_id] : null;
    if (!current) continue;  // not in our catalog
    const theirs = b.fields && typeof b.fields.last_updated === 'string' ? Date.parse(b.fields.last_updated) : NaN;
    const ours = typeof current.last_updated === 'string' ? Date.parse(current.last_updated) : NaN;
    if (Number.isFinite(theirs) && Number.isFinite(ours) && theirs <= ours) continue;
    const err = await store.update({ [b.package_id]: b.fields });
    if (err) log.warn({ package: b.package_id, error: err }, 'shared balance reading not applied');
  }
}

// Returns { stop() }. recordEvent(e) feeds one usage event to the engine.
function joinFleet({ ledger, engine, store, poller, log, recordEvent, electionIntervalMs }) {
  if (ledger.backend !== 'postgres') {
    poller.start();
    return { election: null, async stop() { poller.stop(); } };
  }
  ledger.attach({
    events: (list) => { for (const e of list) recordEvent(e); },
    signals: (list) => {
      for (const x of list) {
        if (x.kind === 'failure') engine.recordFailure(x.provider_id, x.reason, x.ts);
        else engine.observe(x.provider_id, x.account || '', x.model || '', x.status, x.headers, x.body, x.latency_ms, x.ts);
      }
    },
    balances: (list) => { applyRemoteBalances(store, list, log).catch((err) => log.warn({ err: err.message }, 'shared balance readings not applied')); },
  });
  const election = new LeaderElection({ makeClient: () => ledger.makeClient(), intervalMs: electionIntervalMs, log,
    onElected: () => poller.start(), onDemoted: () => poller.stop() });
  ledger.isPollerLeader = () => election.leader;
  election.start();
  return {
    election,
    async stop() {
      poller.stop();
      await election.stop();
    },
  };
}

module.exports = { joinFleet, publishingStore };
