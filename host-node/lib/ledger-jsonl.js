// Reads a usage ledger in JSONL form ({ts, provider_id, model, status, cost, tokens_in, tokens_out},
// ts ISO-8601) for the CLI. Errors name the file, the line and the field.
'use strict';
const fs = require('node:fs');

class InputError extends Error {}

function readLedgerJsonl(file, parseIsoMs) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read ledger (${err.code || err.message})`);
  }
  const events = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = `${file}:${i + 1}`;
    let row;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${where}: invalid JSON (${err.message})`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new InputError(`${where}: expected a JSON object per line`);
    const ts = typeof row.ts === 'number' ? row.ts : (typeof row.ts === 'string' ? parseIsoMs(row.ts) : null);
    if (ts === null || !Number.isFinite(ts)) throw new InputError(`${where}: ts: expected an ISO-8601 timestamp, got ${JSON.stringify(row.ts)}`);
    if (typeof row.provider_id !== 'string' || !row.provider_id) throw new InputError(`${where}: provider_id: expected a non-empty string`);
    for (const field of ['status', 'cost', 'tokens_in', 'tokens_out']) {
      if (row[field] !== undefined && (typeof row[field] !== 'number' || !Number.isFinite(row[field])))
        throw new InputError(`${where}: ${field}: expected a number, got ${JSON.stringify(row[field])}`);
    }
    events.push({
      ts,
      provider_id: row.provider_id,
      model: typeof row.model === 'string' ? row.model : '',
      status: row.status ?? 200,
      cost: row.cost ?? 0,
      tokens_in: row.tokens_in ?? 0,
      tokens_out: row.tokens_out ?? 0,
    });
  }
  return events;
}

module.exports = { readLedgerJsonl, InputError };
