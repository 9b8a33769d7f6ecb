// What an alert says and how each webhook format carries it. The words state what is left, when it
// resets or expires, and link the dashboard; every number is the engine's (the /api/quotas
// document). Strings from outside (package ids, poll errors, ledger reasons) are bounded, passed
// through the redactor by the caller, and encoded for where they go: Slack's mrkdwn escapes,
// Discord with mentions disabled, ntfy headers in printable ASCII, JSON as JSON.
//
// Formats:
//  - slack:   incoming webhook, {"text": ...} (https://api.slack.com/messaging/webhooks)
//  - discord: webhook, {"content": ..., "allowed_mentions": {"parse": []}} (https://discord.com/developers/docs/resources/webhook#execute-webhook)
//  - ntfy:    POST the text to the topic URL, with Title, Priority, Tags and Click headers (https://docs.ntfy.sh/publish/)
//  - json:    {"source": "quotagate", "event", "severity", "package_id", ..., "text"}
'use strict';

const SEVERITY = {
  exhausted: 'critical', expired: 'critical', use_or_lose: 'warning', topup: 'warning', poll_failing: 'warning',
  ledger_degraded: 'critical', watch: 'info', recovered: 'info',
};
const NTFY_PRIORITY = { critical: '5', warning: '4', info: '3' };
const MAX_TEXT = 1500;  // characters: below Discord's 2,000 and Slack's preview limits

function bounded(s, n = 200) {
  const t = String(s ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

function num(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '?';
  const a = Math.abs(v);
  return a >= 100 ? String(Math.round(v)) : a >= 1 ? String(Math.round(v * 10) / 10) : String(Math.round(v * 1000) / 1000);
}

// "2026-12-01 10:00 UTC (in 2.5 h)" for an ISO instant; "" when there is none.
function when(iso, now) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t)) return '';
  const h = (t - now) / 3600000;
  const rel = Math.abs(h) < 48 ? `${num(Math.abs(h))} h` : `${num(Math.abs(h) / 24)} d`;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC (${h >= 0 ? `in ${rel}` : `${rel} ago`})`;
}

function unitOf(p) {
  return p.package_type === 'credits' ? (p.currency || p.unit || 'credits') : (p.unit || 'units');
}

// The transition in words: {severity, title, text} (text without the dashboard link).
function describe(t, now) {
  const p = t.package;
  if (t.event === 'ledger_degraded') {
    return { severity: SEVERITY.ledger_degraded, title: 'quotagate: usage ledger degraded',
      text: `The usage ledger is degraded: ${bounded(t.ledger && t.ledger.reason, 300) || 'unknown reason'}. Requests are still served; usage waits in the journal until writes succeed.` };
  }
  const name = `${bounded(p.package_id)}${p.account ? ` (account ${bounded(p.account, 64)})` : ''} [${bounded(p.provider_id, 100)}]`;
  const unit = unitOf(p);
  const left = `${num(p.remaining)} of ${num(p.total)} ${unit} left`;
  const resets = p.package_type === 'credits' ? (p.expires_at ? `expires ${when(p.expires_at, now)}` : 'no expiry')
    : (p.reset_at ? `resets ${when(p.reset_at, now)}` : 'reset time unknown');
  const severity = t.event === 'utilization' ? (t.threshold >= 95 ? 'warning' : 'info') : (SEVERITY[t.event] || 'info');
  let text;
  switch (t.event) {
    case 'exhausted':
      text = `${name} is exhausted: ${left}; ${resets}.`;
      break;
    case 'use_or_lose':
      text = `${name}: about ${num(p.expiring_capacity)} ${unit} will be lost unused at the current pace; ${left}; ${resets}. Use it or lose it.`;
      break;
    case 'topup':
      text = `${name} runs out before it ${p.package_type === 'credits' ? 'expires' : 'resets'}: ${left}, exhausted ${when(p.exhausts_at, now) || 'soon'} at ${num(p.burn_per_day)} ${unit}/day; ${resets}.`;
      break;
    case 'expired':
      text = `${name} expired with ${num(p.remaining)} ${unit} unused (${p.expires_at ? when(p.expires_at, now) : 'expiry passed'}).`;
      break;
    case 'watch':
      text = `${name} is burning ahead of its window: ${left}; ${resets}.`;
      break;
    case 'utilization': {
      const w = t.window;
      const wl = w.limit !== null && w.remaining !== null ? ` (${num(w.limit - w.remaining)} of ${num(w.limit)} used, ${num(w.remaining)} left)` : '';
      text = `${name}: the ${bounded(w.name, 40)} window is ${num(w.utilization * 100)} % used${wl}, past ${num(t.threshold)} %; ${w.reset_at ? `resets ${when(w.reset_at, now)}` : resets}.`;
      break;
    }
    case 'recovered':
      text = `${name} is back to ok (was ${t.from.replace(/_/g, ' ')}): ${left}; ${resets}.`;
      break;
    case 'poll_failing':
      text = `The balance poll of ${name} is failing: ${bounded(p.last_poll_error, 300)}. Its balance keeps the last reading (${left}).`;
      break;
    default:
      text = `${name}: ${t.event}; ${left}; ${resets}.`;
  }
  const title = t.event === 'utilization' ? `quotagate: ${bounded(p.package_id, 80)} ${bounded(t.window.name, 40)} past ${num(t.threshold)} %`
    : `quotagate: ${bounded(p.package_id, 80)} ${t.event.replace(/_/g, ' ')}`;
  // `quotagate alerts test`: marked as a test, so nobody acts on the sample.
  if (t.test) return { severity: 'info', title: `[test] ${title}`, text: bounded(`Test message from quotagate alerts test; no action needed. Sample: ${text}`, MAX_TEXT) };
  return { severity, title, text: bounded(text, MAX_TEXT) };
}

const slackEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const discordEscape = (s) => s.replace(/([\\*_~`|>])/g, '\\$1');
// A header value in printable ASCII: as is, or RFC 2047 encoded UTF-8 (ntfy decodes it).
const asciiHeader = (s) => {
  const t = s.slice(0, 200);
  return /^[\x20-\x7e]*$/.test(t) ? t : `=?UTF-8?B?${Buffer.from(t.replace(/[\u0000-\u001f\u007f]/g, ' '), 'utf8').toString('base64')}?=`;
};

// The HTTP request for one alert: {method, headers, body}. t: a transition (alert-tracker.js) or a
// sample (test()); dashboard: the link to add (may be null).
function render(format, t, now, dashboard) {
  const d = describe(t, now);
  const p = t.package;
  switch (format) {
    case 'slack':
      return { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `*${slackEscape(d.title)}*\n${slackEscape(d.text)}${dashboard ? `\n<${dashboard}|Dashboard>` : ''}` }) };
    case 'discord':
      return { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `**${discordEscape(d.title)}**\n${discordEscape(d.text)}${dashboard ? `\n${dashboard}` : ''}`, allowed_mentions: { parse: [] } }) };
    case 'ntfy':
      return { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', title: asciiHeader(d.title), priority: NTFY_PRIORITY[d.severity],
        tags: asciiHeader(`quotagate,${t.event}`), ...(dashboard ? { click: asciiHeader(dashboard) } : {}) }, body: d.text };
    default:
      return { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          source: 'quotagate', event: t.event, severity: d.severity, title: d.title, text: d.text, at: new Date(now).toISOString(),
          ...(p ? { package_id: p.package_id, provider_id: p.provider_id, account_id: p.account_id || null, account: p.account || null, alert: p.alert, unit: unitOf(p),
            remaining: p.remaining, total: p.total, reset_at: p.reset_at ?? null, expires_at: p.expires_at ?? null, exhausts_at: p.exhausts_at ?? null,
            expiring_capacity: p.expiring_capacity ?? null } : {}),
          ...(t.event === 'utilization' ? { window: t.window.name, utilization_pct: Math.round(t.window.utilization * 1000) / 10, threshold_pct: t.threshold } : {}),
          ...(t.event === 'recovered' ? { from: t.from } : {}),
          ...(t.event === 'ledger_degraded' ? { reason: bounded(t.ledger && t.ledger.reason, 300) } : {}),
          dashboard_url: dashboard || null,
        }) };
  }
}

module.exports = { render, describe, SEVERITY };
