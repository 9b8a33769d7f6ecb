// Shared dashboard helpers. Everything from the server is rendered as text (textContent),
// never as HTML: catalog notes and provider names are untrusted.
'use strict';
window.qgCommon = (() => {
  const ALERT_ORDER = ['exhausted', 'use_or_lose', 'expired', 'topup', 'watch', 'ok'];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  async function getJson(url, options) {
    const res = await fetch(url, { credentials: 'same-origin', ...options });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  function money(v, unit) {
    if (v === null || v === undefined) return '–';
    if (unit === 'USD') return `$${Number(v).toFixed(2)}`;
    if (unit === 'CNY') return `¥${Number(v).toFixed(2)}`;
    if (unit === 'requests') return `${Math.round(v)} req`;
    return `${Number(v).toFixed(2)} ${unit}`;
  }

  // "in 5d 4h" for the future, "1d 19h ago" for the past.
  function countdown(iso, now = Date.now()) {
    if (!iso) return '–';
    const diff = Math.round((Date.parse(iso) - now) / 1000);
    const s = Math.abs(diff);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    const text = d >= 3650 ? 'over 10 years' : d >= 365 ? `${(d / 365).toFixed(1)} years` : d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
    return diff >= 0 ? `in ${text}` : `${text} ago`;
  }

  // A date and time in the package's zone, with the zone's name ("Nov 29, 2026, 00:00 PST").
  function localTime(iso, zone) {
    if (!iso) return '–';
    try {
      return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
        timeZone: zone || undefined, timeZoneName: 'short' }).format(new Date(iso));
    } catch {
      return iso;
    }
  }

  function days(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 3650) return 'over 10 years';  // a trickle of use on a large balance
    return v < 1 ? `${Math.round(v * 24)} h` : v >= 365 ? `${(v / 365).toFixed(1)} years` : `${v.toFixed(1)} days`;
  }

  return { ALERT_ORDER, el, getJson, money, countdown, localTime, days };
})();
