// Property tests of the host's boundary validators on seeded random input (the C++ ones are
// libFuzzer targets): usage numbers, ledger events, the JSON depth scan and the incremental SSE
// splitter. A failure prints the seed; QG_PROP_SEED=N replays it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { UsageReading, usageFromJson, MAX_TOKENS, MAX_COST_USD } = require('../lib/usage');
const { validEvent } = require('../lib/ledger-event');
const { jsonDepth, parseJsonText } = require('../lib/json-text');
const { SseUsageTap, SseEventTooLarge } = require('../lib/sse');

const SEED = Number(process.env.QG_PROP_SEED || 20261130);

// mulberry32: a small seeded PRNG, so a failure replays exactly.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = [{ cached_tokens: 5 }, { cached_tokens: -1 }, 0, 1, -1, -3, 0.5, 1e308, -1e308, NaN, Infinity, -Infinity, 2 ** 53, 1e9, 1e9 + 1, '12', 'n/a', '', null, true, {}, { cached: 1 }, [], [1], undefined];

function randomValue(r, depth = 0) {
  const k = r();
  if (k < 0.5 || depth > 3) return ODD[Math.floor(r() * ODD.length)];
  if (k < 0.75) return Math.floor(r() * 1e6);
  const o = {};
  const keys = ['prompt_tokens', 'completion_tokens', 'cost', 'input_tokens', 'output_tokens', 'x', 'cache_read_input_tokens', 'cache_creation_input_tokens',
    'prompt_tokens_details', 'input_tokens_details'];
  for (let i = 0; i < 4; i++) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
  return o;
}

test('usage: whatever the upstream sends, tokens are integers in [0, MAX_TOKENS] and cost is null or in [0, MAX_COST_USD]', () => {
  const r = rng(SEED);
  for (let i = 0; i < 20000; i++) {
    const kind = ['chat', 'messages', 'responses'][Math.floor(r() * 3)];
    const body = r() < 0.9 ? { usage: randomValue(r) } : randomValue(r);
    const { usage, invalid } = usageFromJson(kind, body);
    const where = `seed ${SEED}, case ${i}: ${JSON.stringify(body)}`;
    for (const t of [usage.tokens_in, usage.tokens_out, usage.tokens_cached]) assert.ok(Number.isInteger(t) && t >= 0 && t <= MAX_TOKENS, where);
    assert.ok(usage.tokens_cached <= usage.tokens_in, where);
    assert.ok(usage.cost === null || (Number.isFinite(usage.cost) && usage.cost >= 0 && usage.cost <= MAX_COST_USD), where);
    assert.ok(Array.isArray(invalid));
  }
  // The failed cases of the issue, exactly.
  const u = new UsageReading().read('openai', { prompt_tokens: { cached: 1 }, completion_tokens: 'n/a', cost: -1 });
  assert.deepEqual(u.result(), { tokens_in: 0, tokens_out: 0, tokens_cached: 0, cached_read: 0, cache_write: 0, cost: null });
  assert.deepEqual(u.invalid, ['usage.prompt_tokens={"cached":1}', 'usage.completion_tokens="n/a"', 'usage.cost=-1']);
});

test('ledger events: validEvent returns an event SQLite can bind (or null) for any input', () => {
  const r = rng(SEED + 1);
  for (let i = 0; i < 20000; i++) {
    const e = { id: r() < 0.9 ? `e${i}` : randomValue(r), ts: r() < 0.9 ? 1795867200000 + i : randomValue(r), provider_id: r() < 0.9 ? 'p' : randomValue(r),
      model: r() < 0.9 ? 'm' : randomValue(r), status: r() < 0.8 ? 200 : randomValue(r), cost: randomValue(r), tokens_in: randomValue(r), tokens_out: randomValue(r) };
    const v = validEvent(e);
    if (v === null) continue;
    const where = `seed ${SEED + 1}, case ${i}`;
    assert.equal(typeof v.id, 'string', where);
    assert.equal(typeof v.model, 'string', where);
    for (const f of ['ts', 'status', 'cost', 'tokens_in', 'tokens_out']) assert.ok(typeof v[f] === 'number' && Number.isFinite(v[f]), `${where}: ${f}=${v[f]}`);
    for (const f of ['cost', 'tokens_in', 'tokens_out', 'status']) assert.ok(v[f] >= 0, `${where}: ${f}`);
  }
});

test('jsonDepth agrees with the nesting of random documents, and never counts brackets inside strings', () => {
  const r = rng(SEED + 2);
  const build = (d) => {
    if (d === 0) return r() < 0.5 ? '"[{\\"]"' : String(Math.floor(r() * 9));
    return r() < 0.5 ? `[${build(d - 1)},${build(Math.max(0, d - 2))}]` : `{"k[":${build(d - 1)}}`;
  };
  for (let i = 0; i < 2000; i++) {
    const d = Math.floor(r() * 12);
    const text = build(d);
    assert.equal(jsonDepth(text), d, text);
    assert.equal(jsonDepth(Buffer.from(text)), d);
    JSON.parse(text);  // the generator makes valid JSON
  }
  assert.equal(jsonDepth('['.repeat(1e5), 64), 65, 'stops just past the limit');
  assert.throws(() => parseJsonText(`{"a":${'['.repeat(65)}${']'.repeat(65)}}`, 'f.json'), /f\.json: JSON nested deeper than 64 levels/);
  assert.deepEqual(parseJsonText('\ufeff{"a":1}', 'f.json'), { a: 1 });
});

test('the SSE splitter gives the same events however the bytes are chunked, and bounds one event', () => {
  const r = rng(SEED + 3);
  const events = [];
  for (let i = 0; i < 200; i++) {
    const sep = ['\n\n', '\r\n\r\n', '\n\r\n', '\r\n\n'][Math.floor(r() * 4)];
    events.push(`data: ${JSON.stringify({ choices: [{ delta: { content: `tok${i}\n` } }] })}${sep}`);
  }
  events.push(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 200 } })}\n\n`, 'data: [DONE]\n\n');
  const whole = events.join('');
  const split = (text) => {
    const tap = new SseUsageTap({ dialect: 'openai', dropUsageChunk: false });
    let out = '';
    let at = 0;
    while (at < text.length) {
      const n = 1 + Math.floor(r() * 40);
      out += tap.push(text.slice(at, at + n));
      at += n;
    }
    return { out: out + tap.flush(), tap };
  };
  for (let i = 0; i < 50; i++) {
    const { out, tap } = split(whole);
    assert.equal(out + tap.terminal, whole, `seed ${SEED + 3}, run ${i}`);
    assert.deepEqual(tap.usage, { tokens_in: 11, tokens_out: 200, tokens_cached: 0, cached_read: 0, cache_write: 0, cost: null });
    assert.equal(tap.terminal, 'data: [DONE]\n\n');
  }
  const tap = new SseUsageTap({ dialect: 'openai', dropUsageChunk: false, maxEventBytes: 1000 });
  assert.throws(() => { for (let i = 0; i < 100; i++) tap.push('data: xxxxxxxxxx'); }, SseEventTooLarge);
});
