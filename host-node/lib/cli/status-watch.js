// quotagate status --watch: the status table again every few seconds, most urgent first, for
// people who live in a terminal. Each refresh reads a running gateway's /api/quotas (--url, with
// the admin token from $QUOTAGATE_ADMIN_TOKEN), or re-reads the catalog and the ledger files and
// asks the engine at the current time. On a TTY
// the screen is cleared (ANSI) before each table; otherwise the tables follow one another, each
// after a timestamp line. Ctrl-C and SIGTERM end it with exit code 0.
'use strict';
const { engineFromFiles, InputError } = require('../engine-session');
const { statusTable } = require('./format');

const ALERT_ORDER = ['exhausted', 'use_or_lose', 'expired', 'topup', 'watch', 'ok'];
const INTERVAL_S = { default: 5, min: 1, max: 3600 };
const CLEAR = '\x1b[H\x1b[2J';  // cursor home, clear the screen (the scrollback stays)

// --interval <s>: seconds between refreshes (default 5, 1..3600); InputError otherwise.
function parseInterval(text) {
  if (text === undefined) return INTERVAL_S.default;
  const s = /^\d+(\.\d+)?$/.test(String(text)) ? Number(text) : NaN;
  if (!(s >= INTERVAL_S.min && s <= INTERVAL_S.max)) {
    throw new InputError(`--interval: expected seconds between ${INTERVAL_S.min} and ${INTERVAL_S.max}, got "${text}"`);
  }
  return s;
}

// Urgency: the alert order (exhausted, use_or_lose, expired, topup, watch, ok), then the soonest
// reset or expiry, then the package id (and account).
function byUrgency(packages) {
  const soonest = (p) => Math.min(...[p.reset_at, p.expires_at].filter(Boolean).map(Date.parse), Infinity);
  const rank = (p) => (ALERT_ORDER.includes(p.alert) ? ALERT_ORDER.indexOf(p.alert) : ALERT_ORDER.length);
  return [...packages].sort((a, b) => rank(a) - rank(b) || soonest(a) - soonest(b) ||
    a.package_id.localeCompare(b.package_id) || String(a.account_id || '').localeCompare(String(b.account_id || '')));
}

// A running gateway's /api/quotas (url: its base URL; token: the admin token or ''). InputError
// names the URL's host and what went wrong, never the token.
async function fetchQuotas(url, token, timeoutMs = 10000, stop = null) {
  let base;
  try {
    base = new URL(url);
  } catch {
    throw new InputError(`--url: expected the gateway's http(s) URL such as http://127.0.0.1:8090, got "${String(url).slice(0, 100)}"`);
  }
  if (!['http:', 'https:'].includes(base.protocol)) throw new InputError(`--url: expected an http(s) URL, got "${base.protocol}"`);
  if (base.username || base.password) throw new InputError('--url: no user or password in the URL; the admin token comes from QUOTAGATE_ADMIN_TOKEN');
  // Relative to the URL's path: a gateway behind a reverse proxy at /quotagate/ keeps its prefix.
  const endpoint = new URL('api/quotas', base.href.endsWith('/') ? base : `${base.href}/`);
  let res;
  try {
    const signal = stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs);
    res = await fetch(endpoint, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  } catch (err) {
    throw new InputError(`${base.host}: gateway not reachable (${err.cause?.code || err.name || 'error'})`);
  }
  if (res.status === 401) throw new InputError(`${base.host}: the admin token was ${token ? 'refused' : 'not given'} (set QUOTAGATE_ADMIN_TOKEN to server.admin_token)`);
  if (res.status !== 200) throw new InputError(`${base.host}: /api/quotas answered HTTP ${res.status}`);
  const doc = await res.json().catch(() => null);
  if (!doc || !Array.isArray(doc.packages)) throw new InputError(`${base.host}: /api/quotas is not a quotas document`);
  return doc;
}

// The quotas document at `now` (ms): from the gateway at source.url, else from the files.
async function quotasOf(source, now, stop = null) {
  if (source.url) return fetchQuotas(source.url, source.token, 10000, stop);
  const { engine } = await engineFromFiles(source);
  try {
    return JSON.parse(engine.quotasJson(now));
  } finally {
    engine.delete();
  }
}

// One refresh as a table (accounts named), most urgent first.
async function render(source, now, stop) {
  const doc = await quotasOf(source, now, stop);
  const packages = byUrgency(doc.packages).map((p) => (p.account ? { ...p, package_id: `${p.package_id}@${p.account}` } : p));
  return statusTable({ ...doc, packages });
}

// Runs until SIGINT or SIGTERM reaches `signals` (or `out` fails: a closed pipe), then resolves.
// opts: { catalog, ledger, url, token, interval (s, text) }. The first refresh's errors (bad files) are thrown;
// later ones are printed in place of the table and the watch goes on (a catalog being saved).
async function watchStatus(opts, { out = process.stdout, clock = Date.now, signals = process } = {}) {
  const intervalMs = parseInterval(opts.interval) * 1000;
  const files = opts.url ? { url: opts.url, token: opts.token } : { catalog: opts.catalog, ledger: opts.ledger };
  const tty = Boolean(out.isTTY);
  let stopped = false, wake = null, timer = null;
  const aborter = new AbortController();  // Ctrl-C ends a fetch in flight too
  const stop = () => {
    stopped = true;
    aborter.abort();
    clearTimeout(timer);
    if (wake) wake();
  };
  signals.on('SIGINT', stop);
  signals.on('SIGTERM', stop);
  out.on('error', stop);  // a closed pipe (| head) ends the watch
  try {
    for (let n = 0; !stopped; n++) {
      const now = clock();
      let body;
      try {
        body = await render(files, now, aborter.signal);
      } catch (err) {
        if (stopped) break;
        if (n === 0) throw err;
        body = `quotagate: ${err.message}`;
      }
      if (stopped) break;
      const head = `quotagate status at ${new Date(now).toISOString()} · every ${intervalMs / 1000} s · most urgent first`;
      out.write(tty ? `${CLEAR}${head}  (Ctrl-C to stop)\n\n${body}\n` : `${n ? '\n' : ''}--- ${head}\n${body}\n`);
      await new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  } finally {
    signals.removeListener('SIGINT', stop);
    signals.removeListener('SIGTERM', stop);
    out.removeListener('error', stop);
  }
}

module.exports = { watchStatus, parseInterval, byUrgency, quotasOf, INTERVAL_S };
