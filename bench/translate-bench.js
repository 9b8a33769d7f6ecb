// Translation cost: CPU per request of the gateway for a client whose provider speaks its own
// wire format (pass-through) and one whose provider speaks the other (translated through the
// neutral form), Chat Completions and Messages ingress, whole and streamed, sequential requests
// on one keep-alive connection, interleaved rounds on one gateway process (same-run ratios only).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const undici = require('undici');
const { start } = require('./gateway-bench');

const SECONDS = Number(process.env.QG_BENCH_SECONDS || 3);
const ROUNDS = Number(process.env.QG_BENCH_ROUNDS || 5);
const TICKS = 100;

const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// kind: the client's format; model: which provider answers; stream.
const CASES = [
  ['chat -> chat (pass-through)', 'chat', 'm-chat', false], ['chat -> messages (translated)', 'chat', 'm-messages', false],
  ['messages -> messages (pass-through)', 'messages', 'm-messages', false], ['messages -> chat (translated)', 'messages', 'm-chat', false],
  ['chat -> chat, streamed', 'chat', 'm-chat', true], ['chat -> messages, streamed', 'chat', 'm-messages', true],
  ['messages -> messages, streamed', 'messages', 'm-messages', true], ['messages -> chat, streamed', 'messages', 'm-chat', true],
];

async function once(pool, pid, [, kind, model, stream], seconds) {
  const path_ = kind === 'chat' ? '/v1/chat/completions' : '/v1/messages';
  const body = JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream: true } : {}) });
  const samples = [];
  const c0 = cpuMs(pid);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    const r = await pool.request({ path: path_, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${path_} ${model}: ${r.statusCode} ${text.slice(0, 200)}`);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { cpu: ((cpuMs(pid) - c0) * 1000) / samples.length, p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

async function runTranslateBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-bench-tr-'));
  const upstream = await start('multi-upstream.js', []);
  const gateway = await start('gateway-multi.js', [String(upstream.port), dir]);
  const pool = new undici.Pool(`http://127.0.0.1:${gateway.port}`, { connections: 1 });
  const rows = [];
  try {
    const runs = CASES.map(() => []);
    for (const c of CASES) await once(pool, gateway.child.pid, c, 0.5);
    for (let round = 0; round < ROUNDS; round++) for (const [i, c] of CASES.entries()) runs[i].push(await once(pool, gateway.child.pid, c, SECONDS));
    CASES.forEach((c, i) => {
      const cpu = median(runs[i].map((r) => r.cpu));
      const translated = c[1] !== c[2].slice('m-'.length);  // the model's provider speaks the other format
      const base = translated ? i - 1 : null;            // the pass-through row just before
      const ratio = base !== null ? ` ; ${median(runs[i].map((r, k) => r.cpu / runs[base][k].cpu)).toFixed(2)}x the pass-through CPU (target <= 1.5)` : '';
      rows.push({ name: `gateway ${c[0]}, c=1`, mean: cpu, p50: median(runs[i].map((r) => r.p50)), p99: median(runs[i].map((r) => r.p99)), note: `mean col = CPU us/req${ratio}` });
    });
  } finally {
    await pool.close();
    upstream.child.kill('SIGKILL');
    gateway.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

module.exports = { runTranslateBench };

if (require.main === module) {
  runTranslateBench().then((rows) => {
    for (const r of rows) console.log(r.name.padEnd(50), r.mean.toFixed(1).padStart(8), r.p50.toFixed(0).padStart(8), r.p99.toFixed(0).padStart(8), r.note);
  });
}
