// A closed segment's per-second summary (segment-<seq>.seconds.json, written by segment-store.js
// beside the segment), read back for the gateway's start: every row is validated as an event
// (ledger-event.js) and the counts must add up, else the summary is not used and the segment
// itself is read. Never throws: a missing, torn or tampered file is null (and logged unless
// missing).
'use strict';
const fs = require('node:fs');
const { summaryFile } = require('./segment-store');
const { validEvent } = require('./ledger-event');

// Segment `seq`'s summary in ledger dir `dir` as {minTs, maxTs (ms), events: per-second events
// ({ts, provider_id, model, account, status, count, cost (USD), tokens_in, tokens_out})}, or null.
function readSummary(dir, seq, log = null) {
  const file = summaryFile(dir, seq);
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code !== 'ENOENT') log?.warn({ file, err: err.message }, 'ledger segment summary unreadable; reading the segment');
    return null;
  }
  const finite = (v) => typeof v === 'number' && Number.isFinite(v);
  if (!doc || doc.v !== 1 || !Array.isArray(doc.rows) || !finite(doc.minTs) || !finite(doc.maxTs) || !Number.isInteger(doc.count)) return badSummary(log, file, 'shape');
  const events = [];
  let total = 0;
  for (const r of doc.rows) {
    if (!Array.isArray(r) || r.length !== 9 || !Number.isInteger(r[5]) || r[5] < 1 || r[5] > 1e9) return badSummary(log, file, 'row');
    const why = [];
    const e = validEvent({ id: 'summary', ts: r[0], provider_id: r[1], model: r[2], account: r[3], status: r[4], cost: r[6], tokens_in: r[7], tokens_out: r[8] }, why);
    if (!e || why.length || e.model !== r[2] || r[0] % 1000 !== 0) return badSummary(log, file, why.join(', ') || 'row');
    events.push({ ts: e.ts, provider_id: e.provider_id, model: e.model, account: e.account, status: e.status, count: r[5], cost: e.cost,
      tokens_in: e.tokens_in, tokens_out: e.tokens_out });
    total += r[5];
  }
  if (total !== doc.count) return badSummary(log, file, `count ${doc.count} but rows sum to ${total}`);
  return { minTs: doc.minTs, maxTs: doc.maxTs, events };
}

function badSummary(log, file, why) {
  log?.warn({ file, why }, 'ledger segment summary invalid; reading the segment');
  return null;
}

module.exports = { readSummary };
