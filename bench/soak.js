// npm run bench:soak: the memory soak. Sends QG_SOAK_REQUESTS (default 1,000,000) requests at
// concurrency 32 through the bare node:http proxy and then the gateway, on the same fake upstream,
// and prints each one's RSS in MB (peak, at the end, and after 10 s without requests) and the
// gateway's heap/external split. The target is gateway RSS <= 120 MB after 1M requests. It also
// reports the gateway's event-loop delay (perf_hooks.monitorEventLoopDelay, read every 10 s: p99 and
// max per interval, and the worst), the ledger checkpoints during the soak, and the restart time
// with everything the soak stored (the ledger re-read and replayed into the engine).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { start, rssMb, BODY } = require('./gateway-bench');

const REQUESTS = Number(process.env.QG_SOAK_REQUESTS || 1e6);
const CONNECTIONS = 32;
const SAMPLE_MS = 2000;
const IDLE_MS = 10000;  // RSS is read again after this long without requests

// The gateway's own process.memoryUsage() in MB (bench/servers/gateway.js answers SIGUSR2 on stderr).
function memoryOf(server) {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const m = /MEM (\{.*\})/.exec(buf);
      if (m) {
        server.child.stderr.off('data', onData);
        resolve(JSON.parse(m[1]));
      }
    };
    server.child.stderr.on('data', onData);
    server.child.kill('SIGUSR2');
  });
}

async function soak(label, server) {
  let peak = rssMb(server.child.pid);
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(server.child.pid)); }, SAMPLE_MS);
  const loop = [];  // gateway only: [{ p99, max, checkpoints }] per 10 s
  const stats = () => fetch(`http://127.0.0.1:${server.port}/bench/stats`).then((r) => r.json()).catch(() => null);
  const first = server.gateway ? await stats() : null;
  const loopSampler = server.gateway ? setInterval(async () => {
    const s = await stats();
    if (s) loop.push({ p99: s.eld_p99_ms, max: s.eld_max_ms, checkpoints: s.checkpoints, hold: s.ledger_hold_ms, write: s.journal_write_max_ms, seal: s.seal_max_ms, gc: s.gc_max_ms });
  }, 10000) : null;
  const t0 = Date.now();
  const r = await autocannon({ url: `http://127.0.0.1:${server.port}/v1/chat/completions`, method: 'POST', body: BODY,
    headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, amount: REQUESTS });
  clearInterval(sampler);
  if (loopSampler) clearInterval(loopSampler);
  const end = rssMb(server.child.pid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return { label, seconds: (Date.now() - t0 - IDLE_MS) / 1000, ok: r['2xx'], errors: r.errors + r.non2xx, peak: Math.max(peak, end), end,
    idle: rssMb(server.child.pid), loop, checkpoints: loop.length && first ? loop[loop.length - 1].checkpoints - first.checkpoints : null };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-soak-'));
  const upstream = await start('upstream.js', []);
  const bare = await start('bare-proxy.js', [String(upstream.port)]);
  const gateway = await start('gateway.js', [String(upstream.port), dir], { stderr: 'pipe' });
  gateway.gateway = true;
  try {
    const rows = [await soak('bare node:http proxy', bare), await soak('quotagate gateway', gateway)];
    const mem = await memoryOf(gateway);
    console.log(`${'server'.padEnd(24)}${'requests'.padStart(10)}${'errors'.padStart(8)}${'seconds'.padStart(9)}${'RSS peak MB'.padStart(13)}` +
      `${'RSS end MB'.padStart(12)}${'after 10 s idle'.padStart(17)}`);
    for (const r of rows)
      console.log(`${r.label.padEnd(24)}${String(r.ok).padStart(10)}${String(r.errors).padStart(8)}${r.seconds.toFixed(0).padStart(9)}${r.peak.toFixed(1).padStart(13)}` +
        `${r.end.toFixed(1).padStart(12)}${r.idle.toFixed(1).padStart(17)}`);
    console.log(`gateway process.memoryUsage() at the end, MB: ${JSON.stringify(mem)}`);
    console.log(`gateway RSS over the bare proxy's at the end: ${(rows[1].end - rows[0].end).toFixed(1)} MB; target: gateway <= 120 MB`);
    const loop = rows[1].loop;
    if (loop.length) {
      const p99s = loop.map((l) => l.p99).sort((a, b) => a - b);
      console.log(`gateway event-loop delay per 10 s under load: p99 median ${p99s[Math.floor(p99s.length / 2)].toFixed(1)} ms, worst p99 ${p99s[p99s.length - 1].toFixed(1)} ms, ` +
        `max ${Math.max(...loop.map((l) => l.max)).toFixed(1)} ms; ${rows[1].checkpoints} checkpoints`);
      // What held the loop: the ledger's own longest synchronous step (a journal write or a seal)
      // and the longest garbage-collection pause, in the same intervals.
      const holds = loop.map((l) => l.hold ?? 0).sort((a, b) => a - b);
      console.log(`ledger's longest hold of the event loop: ${holds[holds.length - 1].toFixed(2)} ms (target: no ledger stall over 5 ms; ` +
        `longest journal write ${Math.max(...loop.map((l) => l.write ?? 0)).toFixed(2)} ms, longest seal ${Math.max(...loop.map((l) => l.seal ?? 0)).toFixed(2)} ms; ` +
        `median interval's longest hold ${holds[Math.floor(holds.length / 2)].toFixed(2)} ms); ` +
        `longest GC pause: ${Math.max(...loop.map((l) => l.gc ?? 0)).toFixed(1)} ms; intervals with loop delay max over 5 ms: ${loop.filter((l) => l.max > 5).length} of ${loop.length}`);
    }
    // Restart with everything stored: the gateway's own start (ledger read + replay into the engine).
    gateway.child.kill('SIGINT');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    const t0 = Date.now();
    const again = await start('gateway.js', [String(upstream.port), dir], { stderr: 'pipe' });
    console.log(`restart with ${rows[1].ok} stored events: ${((Date.now() - t0) / 1000).toFixed(2)} s to READY (process start included); RSS ${rssMb(again.child.pid).toFixed(1)} MB`);
    again.child.kill('SIGKILL');
  } finally {
    for (const s of [upstream, bare, gateway]) s.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
