// The quotagate CLI: headers, status and route outputs, and exit code 2 with a one-line error for
// bad arguments and bad files.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'host-node', 'bin', 'quotagate');
const TEMPLATE = path.join(ROOT, 'docs/examples/metadata/packages/catalog.v1.json');

function run(args, input) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: input ?? '', encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmpFile(name, content) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-cli-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

test('headers: prints the normalised snapshot with ISO times', () => {
  const raw = 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 20\r\nx-ratelimit-limit-requests: 60\r\n' +
    'x-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: 6m0s\r\n\r\n' +
    '{"error":{"message":"Rate limit reached. Please try again in 20s.","code":"rate_limit_exceeded"}}';
  const r = run(['headers', '--now', '2026-11-28T12:00:00Z', '--provider', 'openai'], raw);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.dialect, 'openai');
  assert.equal(s.status, 429);
  assert.deepEqual(s.requests, { limit: 60, remaining: 0, reset_at: '2026-11-28T12:06:00.000Z' });
  assert.equal(s.retry_after_s, 20);
  assert.equal(s.retryable, true);
  assert.equal(s.provider, 'openai');
  for (const key of ['tokens', 'input_tokens', 'output_tokens', 'windows', 'diagnostics']) assert.ok(key in s, key);
});

test('status --json: the /api/quotas document for the template and a ledger', () => {
  const ledger = tmpFile('ledger.jsonl', [
    { ts: '2026-11-28T09:00:00Z', provider_id: 'gemini', model: 'gemini-2.5-pro', status: 200, cost: 0, tokens_in: 10, tokens_out: 5 },
    { ts: '2026-11-28T09:01:00Z', provider_id: 'gemini', model: 'gemini-2.5-pro', status: 500 },
  ].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const r = run(['status', '--catalog', TEMPLATE, '--ledger', ledger, '--now', '2026-11-28T12:00:00Z', '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.count, 11);
  assert.equal(doc.generated_at, '2026-11-28T12:00:00.000Z');
  const pro = doc.packages.find((p) => p.package_id === 'gemini-pro-daily');
  assert.equal(pro.used, 1, 'the failed request does not count');
  assert.equal(pro.reset_at, '2026-11-29T08:00:00.000Z', 'midnight Pacific');
  for (const key of ['by_alert', 'has_use_or_lose', 'has_exhausted', 'skipped_packages', 'header_snapshots']) assert.ok(key in doc, key);
  const table = run(['status', '--catalog', TEMPLATE, '--now', '2026-11-28T12:00:00Z']);
  assert.match(table.out, /qwen-daily\s+qwen\s+daily\s+use_or_lose/);
});

test('route --json: decision with per-term breakdown', () => {
  const r = run(['route', '--catalog', TEMPLATE, '--now', '2026-11-28T12:00:00Z', '--model', 'gemini-2.5-pro', '--json']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out);
  assert.equal(d.provider, 'gemini');
  assert.equal(d.model, 'gemini-2.5-pro');
  assert.equal(d.ranked.length, 2);
  assert.deepEqual(Object.keys(d.ranked[0].terms), ['group_rank', 'healthy', 'cost_usd', 'urgency_usd_per_h', 'at_risk', 'at_risk_usd',
    'pull_in_h', 'hours_to_loss', 'weight', 'headroom', 'failures', 'latency_ms']);
  assert.equal(typeof d.ranked[0].why, 'string');
  const table = run(['route', '--catalog', TEMPLATE, '--now', '2026-11-28T12:00:00Z']);
  // An idle window loses its capacity over time (as if started now): ChatGPT Plus's 3 h before Qwen's day ending in 4 h.
  assert.match(table.out, /^route -> openai-plus \(openai-plus-3h\), model gpt-5/);
  assert.match(table.out, /lost at the reset in 3.0 h unless used/);
});

test('bad arguments and bad files: one line on stderr, exit code 2', () => {
  const cases = [
    [['status']],
    [['frobnicate']],
    [['status', '--catalog', '/nonexistent/catalog.v1.json']],
    [['status', '--catalog', TEMPLATE, '--now', 'yesterday']],
    [['status', '--catalog', tmpFile('c.json', '{"packages": [1,2]}')]],
    [['status', '--catalog', TEMPLATE, '--ledger', tmpFile('l.jsonl', '{"ts":"2026-11-28T00:00:00Z","provider_id":"a"}\n{"ts": "noon", "provider_id": "a"}\n')]],
    [['route', '--catalog', TEMPLATE, '--bogus']],
  ];
  for (const [args] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.err}`);
    assert.equal(r.out, '');
    assert.ok(r.err.trim().length > 0);
  }
  assert.match(run(cases[2][0]).err, /\/nonexistent\/catalog\.v1\.json: cannot read catalog \(ENOENT\)/);
  assert.match(run(cases[4][0]).err, /\$\.packages: expected an object/);
  assert.match(run(cases[5][0]).err, /l\.jsonl:2: ts: expected an ISO-8601 timestamp, got "noon"/);
});

test('--help and --version exit 0', () => {
  assert.equal(run(['--version']).out.trim(), require('../../package.json').version);
  const help = run(['status', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Example:/);
});
