// Writes fuzz seed corpora from the golden vectors: raw responses, catalogs, header values, times.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const out = process.argv[2] || 'build-fuzz/seeds';
const vectors = path.join(__dirname, '..', 'tests', 'vectors');
const seeds = { header_parser: [], catalog: [], structured_fields: [], time_parsers: [], usage_events: [] };
for (const f of fs.readdirSync(vectors).filter((n) => n.endsWith('.json') && !n.endsWith('.expected.json'))) {
  const v = JSON.parse(fs.readFileSync(path.join(vectors, f), 'utf8'));
  for (const s of v.steps) {
    if (s.raw) seeds.header_parser.push(s.raw);
    if (s.op === 'catalog') seeds.catalog.push(s.text || JSON.stringify(s.catalog));
    if (s.headers) seeds.header_parser.push(Object.entries(s.headers).map(([k, x]) => `${k}: ${x}`).join('\n') + (s.body ? `\n\n${s.body}` : ''));
  }
}
seeds.catalog.push(fs.readFileSync(path.join(__dirname, '..', 'docs', 'examples', 'metadata', 'packages', 'catalog.v1.json'), 'utf8'));
seeds.structured_fields.push('"burst";q=100;w=60, "daily";q=1000;w=86400', 'limit=100, remaining=50, reset=30', '"x";r=5;t=10', '(1 2);a=?1, :aGk=:', '100;w=60');
seeds.time_parsers.push('1h2m3.5s', '59.345ms', '6m0s', '2026-11-28T18:35:00.123+05:30', 'Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT',
  'Sun Nov  6 08:49:37 1994', 'PST8PDT,M3.2.0,M11.1.0', '<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45', 'EET-2EEST,M3.4.4/50,M10.4.4/50', '2024-02-29');
// Event streams: 12-byte ops (see fuzz/usage_events_fuzz.cpp), a burst in one second, a late one,
// every kind of op, and the extremes.
const op = (kind, provider, model, status, offset, cost, tin, tout, count) => {
  const b = Buffer.alloc(12);
  b.writeUInt8(kind, 0); b.writeUInt8(provider, 1); b.writeUInt8(model, 2); b.writeUInt8(status, 3);
  b.writeInt32LE(offset, 4); b.writeUInt8(cost, 8); b.writeUInt8(tin, 9); b.writeUInt8(tout, 10); b.writeUInt8(count, 11);
  return b;
};
const stream = (ops) => Buffer.concat(ops).toString('latin1');
seeds.usage_events.push(
  stream(Array.from({ length: 40 }, (_, i) => op(i % 4, i % 3, i % 3, i % 8, (i % 7) * 300 - 900, i, 10, 20, i))),
  stream([op(0, 0, 0, 0, 2000000, 8, 1, 1, 0), op(4, 0, 0, 3, 2000400, 1, 0, 100, 0), op(0, 0, 1, 0, -7200000, 8, 1, 1, 16),
    op(5, 1, 0, 0, 2001000, 0, 5, 10, 0), op(6, 2, 0, 0, 2002000, 0, 0, 0, 0), op(7, 0, 0, 0, 0, 1, 1, 1, 0), op(7, 1, 0, 0, 0, 1, 1, 1, 0)]),
);
// Every crash ever found is replayed first (tests/fuzz-regressions/TARGET-crash-*).
const regressions = path.join(__dirname, '..', 'tests', 'fuzz-regressions');
for (const f of fs.existsSync(regressions) ? fs.readdirSync(regressions) : []) {
  const target = Object.keys(seeds).find((t) => f.startsWith(`${t}-`));
  if (target) seeds[target].push(fs.readFileSync(path.join(regressions, f), 'latin1'));
}
for (const [target, list] of Object.entries(seeds)) {
  const dir = path.join(out, target);
  fs.mkdirSync(dir, { recursive: true });
  list.forEach((s, i) => fs.writeFileSync(path.join(dir, `seed-${i}`), Buffer.from(s, 'latin1').length === s.length ? Buffer.from(s, 'latin1') : s));
}
