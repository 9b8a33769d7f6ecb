// Config `alerts`: the webhook targets that hear about quota transitions (docs/config.md "Alerts").
// A target's URL is a secret (a Slack or Discord webhook URL is its own credential): it is never
// shown in an error, and serve.js gives it to the redactor.
'use strict';

const FORMATS = ['slack', 'discord', 'ntfy', 'json'];
// Events a target may ask for. Package alerts are the engine's (docs/quota-model.md "Alerts").
const PACKAGE_EVENTS = ['exhausted', 'use_or_lose', 'expired', 'topup', 'watch'];
const EVENTS = [...PACKAGE_EVENTS, 'utilization', 'recovered', 'poll_failing', 'ledger_degraded'];
const DEFAULT_EVENTS = ['exhausted', 'use_or_lose', 'expired', 'topup', 'utilization', 'poll_failing', 'ledger_degraded'];
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const GLOB = /^[A-Za-z0-9._:@/*?-]{1,200}$/;

// alerts: [{name, url, format, on, packages, min_interval_s, utilization, clear_after_s, dashboard_url}]
// -> a list of targets with every default filled in. Units: seconds (min_interval_s,
// clear_after_s), percent of a window's limit (utilization). c: config.js checker.
function alertsOf(c, raw) {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) c.fail('alerts', 'a list of targets ({name, url, format, on, ...})', raw);
  if (raw.length > 32) c.fail('alerts', 'at most 32 targets', raw.length);
  const names = new Set();
  return raw.map((entry, i) => {
    const key = `alerts[${i}]`;
    const a = c.object(entry, key);
    c.keys(a, key, ['name', 'url', 'format', 'on', 'packages', 'min_interval_s', 'utilization', 'clear_after_s', 'dashboard_url']);
    const name = c.string(a.name, `${key}.name`, { required: true });
    if (!NAME.test(name)) c.fail(`${key}.name`, 'letters, digits and . _ - (at most 64)', name);
    if (names.has(name)) c.fail(`${key}.name`, 'a name no other target has', name);
    names.add(name);
    if (a.url === undefined || a.url === null || a.url === '') c.fail(`${key}.url`, 'an http(s) webhook URL (is the ${VARIABLE} it names set?)', a.url);
    const url = c.string(a.url, `${key}.url`, { required: true });
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch { /* reported below */ }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) c.fail(`${key}.url`, 'an http(s) webhook URL (is the ${VARIABLE} it names set?)', url);
    const format = c.string(a.format, `${key}.format`, { fallback: 'json' });
    if (!FORMATS.includes(format)) c.fail(`${key}.format`, `one of ${FORMATS.join(', ')}`, format);
    const on = a.on === undefined ? DEFAULT_EVENTS : c.stringList(a.on, `${key}.on`);
    for (const [j, ev] of on.entries()) if (!EVENTS.includes(ev)) c.fail(`${key}.on[${j}]`, `one of ${EVENTS.join(', ')}`, ev);
    const packages = a.packages === undefined ? ['*'] : c.stringList(a.packages, `${key}.packages`);
    for (const [j, g] of packages.entries()) if (!GLOB.test(g)) c.fail(`${key}.packages[${j}]`, 'a package id or glob (* and ?)', g);
    let utilization = [80, 95];
    if (a.utilization !== undefined) {
      if (!Array.isArray(a.utilization) || !a.utilization.length || a.utilization.length > 10) c.fail(`${key}.utilization`, 'a list of 1..10 percentages', a.utilization);
      utilization = a.utilization.map((v, j) => c.number(v, `${key}.utilization[${j}]`, { min: 1, max: 100 }));
      utilization = [...new Set(utilization)].sort((x, y) => x - y);
    }
    const dashboard = c.string(a.dashboard_url, `${key}.dashboard_url`, { fallback: null });
    if (dashboard !== null) {
      let d = null;
      try {
        d = new URL(dashboard);
      } catch { /* reported below */ }
      if (!d || !['http:', 'https:'].includes(d.protocol)) c.fail(`${key}.dashboard_url`, 'an http(s) URL of the dashboard', dashboard);
    }
    return {
      name, url, format, on, packages, utilization, dashboard_url: dashboard,
      min_interval_s: c.number(a.min_interval_s, `${key}.min_interval_s`, { fallback: 300, min: 0, max: 7 * 86400 }),
      clear_after_s: c.number(a.clear_after_s, `${key}.clear_after_s`, { fallback: 600, min: 0, max: 7 * 86400 }),
    };
  });
}

// The parts of a target's URL that are secret on their own: the whole URL, and its path and
// query (an error may quote either without the host). For the redactor.
function alertSecrets(targets) {
  const out = [];
  for (const t of targets || []) {
    out.push(t.url);
    try {
      const u = new URL(t.url);
      if (u.pathname.length > 8) out.push(u.pathname + u.search);
      for (const v of u.searchParams.values()) out.push(v);
      if (u.password) out.push(decodeURIComponent(u.password));
    } catch { /* validated already */ }
  }
  return out;
}

module.exports = { alertsOf, alertSecrets, EVENTS, PACKAGE_EVENTS, FORMATS };
