// Builds a wasm Engine from files (catalog, optional ledger, optional engine config). Shared by the
// CLI and the gateway. File problems become InputError with the file named.
'use strict';
const fs = require('node:fs');
const { loadCore } = require('./core');
const { readLedgerJsonl, InputError } = require('./ledger-jsonl');
const { parseJsonText, withoutBom } = require('./json-text');

// The catalog file's text as every reader sees it (BOM removed); InputError names the file.
function readCatalogText(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read catalog (${err.code || err.message})`);
  }
  try {
    parseJsonText(text, file);
  } catch (err) {
    throw new InputError(err.message);
  }
  return withoutBom(text);
}

async function engineFromFiles({ catalog, ledger, engineConfig }) {
  const core = await loadCore();
  const engine = new core.Engine();
  const loaded = engine.loadCatalog(readCatalogText(catalog), catalog);
  if (!loaded.ok) {
    engine.delete();
    throw new InputError(loaded.error);
  }
  if (engineConfig) {
    const err = engine.configure(JSON.stringify(engineConfig));
    if (err) {
      engine.delete();
      throw new InputError(err);
    }
  }
  if (ledger) {
    for (const e of readLedgerJsonl(ledger, (s) => parseIso(core, s))) recordUsageEvent(engine, e);
  }
  return { core, engine, skipped: JSON.parse(loaded.skippedJson) };
}

// One ledger event ({ts, provider_id, model, status, cost, tokens_in, tokens_out, account?}) into
// the engine. account: the provider account's id (a fingerprint or a configured name), never a
// credential; absent in events written before accounts existed.
// A per-second row of the ledger (count > 1: cost and tokens are totals) goes in as that many events.
function recordUsageEvent(engine, e) {
  const account = typeof e.account === 'string' ? e.account : '';
  if (e.count > 1) engine.recordUsageCount(e.ts, e.provider_id, e.model, e.status, e.cost, e.tokens_in, e.tokens_out, account, e.count);
  else engine.recordUsage(e.ts, e.provider_id, e.model, e.status, e.cost, e.tokens_in, e.tokens_out, account);
}

// ISO-8601 -> ms using the engine's own parser (same rules as the catalog); null when invalid.
function parseIso(core, text) {
  const ms = core.parseIsoMs(String(text));
  return ms === '' ? null : Number(ms);
}

// A validator for catalog text: the one JSON reader (json-text.js: depth, NUL, BOM), then the
// engine's own parser on a scratch engine. Returns null or the error.
function catalogValidator(core, source) {
  return (text) => {
    try {
      parseJsonText(text, source);
    } catch (err) {
      return err.message;
    }
    const scratch = new core.Engine();
    try {
      const r = scratch.loadCatalog(withoutBom(text), source);
      return r.ok ? null : r.error;
    } finally {
      scratch.delete();
    }
  };
}

module.exports = { readCatalogText, engineFromFiles, parseIso, catalogValidator, recordUsageEvent, InputError };
