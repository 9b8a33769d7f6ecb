// Tail latency and CPU per request with wrk (Debian's package: a C load generator in its own
// process, so the load itself does not compete inside the measured Node process): a bare node:http
// proxy, the gateway as shipped (ledger segment in a worker thread) and the gateway with its
// checkpoints on the event loop (ledger.segment_worker: false, the v1 behaviour), on one fake
// upstream, interleaved in rounds. Each cell lasts QG_WRK_SECONDS (default 8 s, longer than the
// 5 s checkpoint interval: every gateway cell contains at least one checkpoint, and the count is
// reported). Reports p50, p99 and max latency, req/s, CPU us/request (utime+stime of the server
// process, all threads) and, for the gateways, the event loop's delay (p99, max) during the cell.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { start } = require('./gateway-bench');

const SECONDS = Number(process.env.QG_WRK_SECONDS || 8);
const ROUNDS = Number(process.env.QG_WRK_ROUNDS || 2);
const WARMUP_SECONDS = Number(process.env.QG_WRK_WARMUP_SECONDS || 20);
const TICKS = 100;  // USER_HZ
const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
};

// wrk's duration strings ("812.00us", "3.31ms", "1.02s") in ms.
function ms(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2]];
}

function wrk(port, connections, script, seconds = SECONDS) {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/v1/chat/completions`],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error}`);
  const out = r.stdout;
  const lat = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  const pct = (p) => ms((new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out) || [])[1] || '');
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) || [])[1]);
  const total = Number((/(\d+) requests in/.exec(out) || [])[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return { p50: pct(50), p99: pct(99), max: lat ? ms(lat[3]) : NaN, rps, total, non2xx: errors ? Number(errors[1]) : 0 };
}

async function stats(port) {
  const r = await fetch(`http://127.0.0.1:${port}/bench/stats`);
  return r.json();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runWrkBench() {
  if (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error) return [{ name: 'wrk bench', note: 'wrk not installed (apt-get install wrk)' }];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-wrk-'));
  const script = path.join(dir, 'post.lua');
  fs.writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["content-type"] = "application/json"\n`);
  const upstream = await start('upstream.js', []);
  const servers = [
    { name: 'bare proxy', ...(await start('bare-proxy.js', [String(upstream.port)])) },
    { name: 'gateway', gateway: true, ...(await start('gateway.js', [String(upstream.port), fs.mkdtempSync(path.join(dir, 'gw-'))])) },
    { name: 'gateway, checkpoints on the loop', gateway: true,
      ...(await start('gateway.js', [String(upstream.port), fs.mkdtempSync(path.join(dir, 'gwi-'))], { env: { QG_BENCH_LEDGER_INLINE: '1' } })) },
  ];
  const cells = {};
  try {
    // Warm-up, not measured: V8 keeps optimising the gateway's code for ~15-20 s of load at c=32
    // (traced with --trace-opt: ~700 optimisations in the first 8 s, ~180 in the next 8, then
    // ~25 per 8 s), the bare proxy's far less. Cells measure the steady state a running gateway
    // is in, not the compiler's first seconds.
    for (const s of servers) wrk(s.port, 32, script, WARMUP_SECONDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of [32, 1]) {
        for (const s of servers) {
          if (s.gateway) await stats(s.port);  // resets the loop-delay histogram
          const before = s.gateway ? (await stats(s.port)).checkpoints : 0;
          const cpu0 = cpuMs(s.child.pid);
          const r = wrk(s.port, c, script);
          r.cpuUsPerReq = ((cpuMs(s.child.pid) - cpu0) * 1000) / r.total;
          if (s.gateway) {
            const st = await stats(s.port);
            Object.assign(r, { eldP99: st.eld_p99_ms, eldMax: st.eld_max_ms, checkpoints: st.checkpoints - before, hold: st.ledger_hold_ms ?? 0, gc: st.gc_max_ms ?? 0 });
          }
          (cells[`${s.name}|${c}`] ??= []).push(r);
        }
      }
    }
  } finally {
    // Each gateway's close writes its last checkpoint: the data dir is removed only after they exit.
    await Promise.all([...servers, upstream].map((s) => new Promise((resolve) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
      s.child.once('exit', resolve);
      s.child.kill('SIGINT');
    })));
  }
  const rows = [];
  const table = [];
  for (const c of [32, 1]) {
    const bare = cells[`bare proxy|${c}`];
    for (const s of servers) {
      const runs = cells[`${s.name}|${c}`];
      const m = (k) => median(runs.map((r) => r[k]));
      const ratio = (k) => median(runs.map((r, i) => r[k] / bare[i][k]));
      const line = { server: s.name, c, rps: m('rps'), p50: m('p50'), p99: m('p99'), max: Math.max(...runs.map((r) => r.max)), cpu: m('cpuUsPerReq'),
        rpsRatio: ratio('rps'), p99Ratio: ratio('p99'), cpuRatio: ratio('cpuUsPerReq'), non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
        checkpoints: s.gateway ? runs.map((r) => r.checkpoints).join('/') : '', eldP99: s.gateway ? m('eldP99') : null,
        eldMax: s.gateway ? Math.max(...runs.map((r) => r.eldMax)) : null,
        hold: s.gateway ? Math.max(...runs.map((r) => r.hold)) : null, gc: s.gateway ? Math.max(...runs.map((r) => r.gc)) : null };
      table.push(line);
      rows.push({ name: `wrk c=${c} ${s.name}`.slice(0, 45), mean: line.cpu, p50: line.p50 * 1000, p99: line.p99 * 1000,
        note: `${Math.round(line.rps)} req/s, max ${line.max.toFixed(1)} ms` + (s.gateway ? `; vs bare: p99 ${line.p99Ratio.toFixed(2)}x, CPU ${line.cpuRatio.toFixed(2)}x, req/s ${line.rpsRatio.toFixed(2)}x; ` +
          `checkpoints per cell ${line.checkpoints}; loop delay p99 ${line.eldP99.toFixed(1)} ms, max ${line.eldMax.toFixed(1)} ms; ` +
          `ledger's longest hold ${line.hold.toFixed(2)} ms, longest GC pause ${line.gc.toFixed(1)} ms` : '') +
          (line.non2xx ? `; ${line.non2xx} non-2xx` : '') + ' (mean col = CPU us/req)' });
    }
  }
  fs.writeFileSync(path.join(os.tmpdir(), 'qg-wrk-last.json'), JSON.stringify(table, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  return rows;
}

module.exports = { runWrkBench };

if (require.main === module) {
  runWrkBench().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(46)}${r.mean.toFixed(1).padStart(10)}${r.p50.toFixed(0).padStart(10)}${r.p99.toFixed(0).padStart(10)}  ${r.note}`);
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
