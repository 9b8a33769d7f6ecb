// Gateway vs a bare node:http reverse proxy on the same fake upstream, in the same run (this
// machine is shared and noisy: only same-run ratios mean anything). Loads each with autocannon at
// concurrency 32 and with sequential requests at concurrency 1, in interleaved rounds, and reads
// the server process's CPU time from /proc to get CPU us/request. The gateway runs twice: as
// shipped (trace export off) and with OpenTelemetry trace export on, to a local OTLP/HTTP sink
// (bench/servers/otlp-sink.js), each reported against the bare proxy of the same rounds.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const autocannon = require('autocannon');
const { GATEWAY_NODE_FLAGS, GATEWAY_ENV } = require('../host-node/lib/node-flags');

const DURATION_S = Number(process.env.QG_BENCH_SECONDS || 3);  // per server and round
const ROUNDS = Number(process.env.QG_BENCH_ROUNDS || 5);
const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
const TICKS = 100;  // USER_HZ on Linux

// The gateway runs with the flags and environment it ships with; QG_BENCH_NODE_DEFAULTS=1 runs it
// without them. env: more environment for the server (e.g. QG_BENCH_LEDGER_INLINE).
function start(script, args, { stderr = 'inherit', env = {} } = {}) {
  const shipped = script === 'gateway.js' && !process.env.QG_BENCH_NODE_DEFAULTS;
  const child = spawn(process.execPath, [...(shipped ? GATEWAY_NODE_FLAGS : []), path.join(__dirname, 'servers', script), ...args],
    { stdio: ['ignore', 'pipe', stderr], env: { ...process.env, ...(shipped ? GATEWAY_ENV : {}), ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;  // utime + stime
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function load(port, connections, seconds = DURATION_S) {
  return autocannon({ url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', body: BODY,
    headers: { 'content-type': 'application/json' }, connections, duration: seconds });
}

// Concurrency 1 with microsecond timing (autocannon reports whole milliseconds): sequential
// requests on one keep-alive connection for the same duration.
async function sequential(port, seconds) {
  const undici = require('undici');
  const pool = new undici.Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const samples = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    const r = await pool.request({ path: '/v1/chat/completions', method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
    await r.body.text();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await pool.close();
  samples.sort((a, b) => a - b);
  const pct = (q) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))];
  return { requests: { total: samples.length, average: samples.length / seconds }, latency: { p50: pct(0.5) / 1000, p99: pct(0.99) / 1000 }, errors: 0, non2xx: 0 };
}

async function measureOnce(server, connections, seconds) {
  const run = (secs) => (connections === 1 ? sequential(server.port, secs) : load(server.port, connections, secs));
  const cpu0 = server.pid ? cpuMs(server.pid) : 0;
  const extra0 = server.extraCpu ? server.extraCpu() : 0;  // another process this server makes work (PostgreSQL)
  const r = await run(seconds);
  const cpu1 = server.pid ? cpuMs(server.pid) : 0;
  const extraCpuMs = server.extraCpu ? server.extraCpu() - extra0 : 0;
  const total = r.requests.total;
  return { reqPerS: r.requests.average, p50: r.latency.p50 * 1000, p99: r.latency.p99 * 1000,
    cpuUsPerReq: server.pid ? ((cpu1 - cpu0) * 1000) / total : null, pgCpuUsPerReq: (extraCpuMs * 1000) / total, errors: r.errors + r.non2xx, total,
    errorDetail: r.errors + r.non2xx ? JSON.stringify({ errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, codes: r.statusCodeStats }) : '' };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The servers are measured in interleaved rounds (A B C, A B C, ...) rather than one long run
// each, so that a slow spell of this shared machine hits all of them alike; each figure is the
// median over the rounds, and each ratio is the median of the per-round ratios (adjacent runs).
async function measureRounds(servers, connections, rounds, seconds) {
  const perServer = Object.fromEntries(Object.keys(servers).map((k) => [k, []]));
  for (const s of Object.values(servers)) await measureOnce(s, connections, 1);  // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, s] of Object.entries(servers)) perServer[name].push(await measureOnce(s, connections, seconds));
  }
  const out = {};
  for (const [name, runs] of Object.entries(perServer)) {
    const pick = (k) => median(runs.map((r) => r[k]));
    out[name] = { runs, reqPerS: pick('reqPerS'), p50: pick('p50'), p99: pick('p99'), cpuUsPerReq: runs[0].cpuUsPerReq === null ? null : pick('cpuUsPerReq'),
      pgCpuUsPerReq: pick('pgCpuUsPerReq'), errors: runs.reduce((a, r) => a + r.errors, 0), total: runs.reduce((a, r) => a + r.total, 0),
      errorDetail: runs.map((r) => r.errorDetail).filter(Boolean).join(' ') };
  }
  return out;
}

// Median over rounds of a per-round figure computed from two servers' runs of that round.
function pairedMedian(a, b, f) {
  return median(a.runs.map((r, i) => f(r, b.runs[i])));
}

// CPU of a PostgreSQL cluster: the postmaster and all its backends (ms).
function clusterCpuMs(pg) {
  const postmaster = Number(fs.readFileSync(path.join(pg.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuMs(postmaster);
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(f[1]) === postmaster) total += ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
    } catch { /* exited */ }
  }
  return total;
}

// "p50 1.12x, p99 1.30x, CPU 1.41x" of server a against server b, each the median of the
// per-round ratios.
function ratios(a, b) {
  const r = (k) => pairedMedian(a, b, (x, y) => x[k] / y[k]).toFixed(2);
  return `p50 ${r('p50')}x, p99 ${r('p99')}x, CPU ${r('cpuUsPerReq')}x`;
}

async function runGatewayBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-bench-'));
  const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-bench-pg-'));
  const otelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-bench-otel-'));
  const upstream = await start('upstream.js', []);
  const bare = await start('bare-proxy.js', [String(upstream.port)]);
  const gateway = await start('gateway.js', [String(upstream.port), dir]);
  const sink = await start('otlp-sink.js', []);
  const gatewayOtel = await start('gateway.js', [String(upstream.port), otelDir], { env: { QG_BENCH_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}/v1/traces` } });
  let pg = null;
  let gatewayPg = null;
  try {
    pg = await require('../host-node/test/pg-server').startPostgres();
    gatewayPg = await start('gateway.js', [String(upstream.port), pgDir, pg.url]);
  } catch (err) {
    process.stderr.write(`postgres-mode rows skipped: ${err.message}\n`);
  }
  const rows = [];
  try {
    const labels = { direct: 'direct to upstream', bare: 'bare node:http proxy', gateway: 'quotagate gateway', gatewayOtel: 'quotagate gateway, traces on (OTLP)',
      gatewayPg: 'quotagate gateway, postgres ledger' };
    const all = {
      direct: { port: upstream.port, pid: upstream.child.pid },
      bare: { port: bare.port, pid: bare.child.pid },
      gateway: { port: gateway.port, pid: gateway.child.pid },
      gatewayOtel: { port: gatewayOtel.port, pid: gatewayOtel.child.pid, extraCpu: () => cpuMs(sink.child.pid) },
      ...(gatewayPg ? { gatewayPg: { port: gatewayPg.port, pid: gatewayPg.child.pid, extraCpu: () => clusterCpuMs(pg) } } : {}),
    };
    const results = {};
    for (const c of [1, 32]) {
      const servers = { ...all };
      if (c === 32) delete servers.direct;
      const r = await measureRounds(servers, c, ROUNDS, DURATION_S);
      for (const [name, v] of Object.entries(r)) results[`${name}${c}`] = { ...v, name: `${labels[name]}, c=${c}` };
    }
    const fmtRow = (r, note) => ({ name: r.name, mean: r.cpuUsPerReq ?? undefined, p50: r.p50, p99: r.p99,
      note: `${Math.round(r.reqPerS)} req/s${r.cpuUsPerReq !== null ? ' (mean col = CPU us/req)' : ''}${r.errors ? `, ${r.errors} errors ${r.errorDetail}` : ''}${note ? `; ${note}` : ''}` });
    const cpuRatio = (a, b) => pairedMedian(a, b, (x, y) => x.cpuUsPerReq / y.cpuUsPerReq).toFixed(2);
    const addedP50 = (a) => pairedMedian(a, results.direct1, (x, y) => x.p50 - y.p50).toFixed(0);
    rows.push(fmtRow(results.direct1));
    rows.push(fmtRow(results.bare1, `adds ${addedP50(results.bare1)} us p50 over direct`));
    const overBare = pairedMedian(results.gateway1, results.bare1, (x, y) => x.p50 - y.p50).toFixed(0);
    rows.push(fmtRow(results.gateway1, `adds ${addedP50(results.gateway1)} us p50 over direct (target <= 300), ${overBare} over the bare proxy; ` +
      `CPU ${cpuRatio(results.gateway1, results.bare1)}x bare (target <= 1.5)`));
    // Trace export: "zero cost when off" is the off row against the bare proxy (unchanged from
    // before tracing existed); the cost when on is the on row against the same bare proxy.
    const otelRow = (on, off, b) => fmtRow(on, `traces off: ${ratios(off, b)} bare; on: ${ratios(on, b)} bare; on vs off ${ratios(on, off)}; ` +
      `sink ${on.pgCpuUsPerReq.toFixed(0)} us CPU/req`);
    rows.push(otelRow(results.gatewayOtel1, results.gateway1, results.bare1));
    if (results.gatewayPg1) {
      const r = results.gatewayPg1;
      rows.push(fmtRow(r, `adds ${pairedMedian(r, results.gateway1, (x, y) => x.p50 - y.p50).toFixed(0)} us p50 over the embedded ledger; CPU ${cpuRatio(r, results.gateway1)}x embedded, ` +
        `${cpuRatio(r, results.bare1)}x bare; PostgreSQL ${r.pgCpuUsPerReq.toFixed(0)} us CPU/req`));
    }
    rows.push(fmtRow(results.bare32));
    rows.push(fmtRow(results.gateway32, `CPU ${cpuRatio(results.gateway32, results.bare32)}x bare (target <= 1.5)`));
    rows.push(otelRow(results.gatewayOtel32, results.gateway32, results.bare32));
    if (results.gatewayPg32) {
      const r = results.gatewayPg32;
      rows.push(fmtRow(r, `CPU ${cpuRatio(r, results.gateway32)}x embedded, ${cpuRatio(r, results.bare32)}x bare; ` +
        `PostgreSQL ${r.pgCpuUsPerReq.toFixed(0)} us CPU/req`));
    }
    const served = Object.entries(results).filter(([k]) => /^gateway\d+$/.test(k)).reduce((a, [, r]) => a + r.total, 0);
    rows.push({ name: 'quotagate gateway RSS after the runs', note: `${rssMb(gateway.child.pid).toFixed(1)} MB after ${served} requests (+ warm-ups)` });
    const servedOtel = Object.entries(results).filter(([k]) => /^gatewayOtel\d+$/.test(k)).reduce((a, [, r]) => a + r.total, 0);
    const sinkStats = await (await fetch(`http://127.0.0.1:${sink.port}/stats`)).json();
    rows.push({ name: 'quotagate gateway, traces on: RSS, spans', note: `${rssMb(gatewayOtel.child.pid).toFixed(1)} MB after ${servedOtel} requests (+ warm-ups); ` +
      `the sink received ${sinkStats.spans} spans in ${sinkStats.requests} exports` });
  } finally {
    for (const s of [upstream, bare, gateway, gatewayOtel, sink, gatewayPg]) if (s) s.child.kill('SIGKILL');
    if (pg) pg.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(pgDir, { recursive: true, force: true });
    fs.rmSync(otelDir, { recursive: true, force: true });
  }
  return rows;
}

module.exports = { runGatewayBench, start, rssMb, BODY };

if (require.main === module) {
  runGatewayBench().then((rows) => {
    for (const r of rows) console.log(r.name.padEnd(46), r.mean !== undefined ? r.mean.toFixed(1).padStart(8) : ''.padStart(8), (r.p50 ?? 0).toFixed(0).padStart(8), (r.p99 ?? 0).toFixed(0).padStart(8), r.note);
  });
}
