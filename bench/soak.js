// npm run bench:soak: the memory soak. Sends QG_SOAK_REQUESTS (default 1,000,000) requests at
// concurrency 32 through the bare node:http proxy and then the gateway, on the same fake upstream,
// and prints each one's RSS in MB (peak, at the end, and after 10 s without requests) and the
// gateway's heap/external split. The target is gateway RSS <= 120 MB after 1M requests.
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
  const t0 = Date.now();
  const r = await autocannon({ url: `http://127.0.0.1:${server.port}/v1/chat/completions`, method: 'POST', body: BODY,
    headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, amount: REQUESTS });
  clearInterval(sampler);
  const end = rssMb(server.child.pid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return { label, seconds: (Date.now() - t0 - IDLE_MS) / 1000, ok: r['2xx'], errors: r.errors + r.non2xx, peak: Math.max(peak, end), end,
    idle: rssMb(server.child.pid) };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-soak-'));
  const upstream = await start('upstream.js', []);
  const bare = await start('bare-proxy.js', [String(upstream.port)]);
  const gateway = await start('gateway.js', [String(upstream.port), dir], { stderr: 'pipe' });
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
  } finally {
    for (const s of [upstream, bare, gateway]) s.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
