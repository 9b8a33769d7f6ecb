// Quotas page: polls /api/quotas, renders the alert summary, one card per package in urgency
// order with its history and forecast plot (forecast.js, from /api/usage) and the latest header
// snapshot per provider.
'use strict';
(() => {
  const { ALERT_ORDER, el, getJson, money, countdown, localTime, days } = window.qgCommon;
  const params = new URLSearchParams(location.search);
  const intervalS = Math.max(1, Number(params.get('interval')) || 60);
  let lastOk = 0;
  let lastDoc = null;
  const figures = new Map();  // card key -> forecast figure, kept across re-renders

  function soonest(p) {
    const times = [p.reset_at, p.expires_at].filter(Boolean).map(Date.parse);
    return times.length ? Math.min(...times) : Infinity;
  }

  function sortPackages(packages) {
    return [...packages].sort((a, b) => (ALERT_ORDER.indexOf(a.alert) - ALERT_ORDER.indexOf(b.alert)) || (soonest(a) - soonest(b)) ||
      a.package_id.localeCompare(b.package_id));
  }

  function fact(dl, label, value) {
    dl.append(el('dt', { text: label }), el('dd', { text: value }));
  }

  function card(p) {
    const ratio = Math.max(0, Math.min(1, p.remaining_ratio));
    const color = `var(--${p.alert})`;
    const bar = el('div', { class: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(ratio * 100), 'aria-label': `${Math.round(ratio * 100)}% left` }, el('span'));
    bar.firstChild.style.width = `${(ratio * 100).toFixed(1)}%`;
    bar.firstChild.style.background = color;
    const alert = el('span', { class: 'alert', text: p.alert.replace(/_/g, ' ') });
    alert.style.background = color;
    const dl = el('dl');
    fact(dl, 'remaining', `${money(p.remaining, p.unit)} of ${money(p.total, p.unit)}`);
    if (p.reset_at) fact(dl, 'resets', `${localTime(p.reset_at, p.reset_timezone)} (${countdown(p.reset_at)})`);
    if (p.expiry_date) fact(dl, p.alert === 'expired' ? 'expired' : 'expires', `${p.expiry_date} (${countdown(p.expires_at)})`);
    fact(dl, 'burn / day', money(p.burn_per_day, p.unit));
    fact(dl, 'runway', days(p.projected_days_left));
    fact(dl, 'exhausts at', p.exhausts_at ? `${localTime(p.exhausts_at)} (${countdown(p.exhausts_at)})`
      : p.alert === 'exhausted' || p.remaining <= 0 ? 'exhausted now' : 'not at this pace');
    fact(dl, 'expiring capacity', money(p.expiring_capacity, p.unit));
    fact(dl, 'source', `${p.source} · confidence ${p.confidence}`);
    if (p.learned_limit) fact(dl, 'learned limit', `${p.learned_limit.limit} (${p.learned_limit.evidence})`);
    for (const w of p.secondary_windows || []) fact(dl, `window ${w.name}`, `${money(w.remaining, 'requests')} of ${money(w.limit, 'requests')}`);
    // Model-family windows (7d_opus ...): they stop only their family's requests.
    for (const w of p.model_windows || []) {
      const used = w.utilization !== null ? `${Math.round(w.utilization * 100)}% used` : w.used !== null ? `${money(w.used, 'requests')} used` : 'no reading yet';
      fact(dl, `${w.family} window`, `${used}${w.exhausted ? ' · exhausted' : ''}${w.reset_at ? ` · resets ${countdown(w.reset_at)}` : ''}`);
    }
    if (p.overage) fact(dl, 'overage', p.overage.in_use ? 'in use (billed beyond the plan)' : p.overage.available ? 'available' : `off${p.overage.disabled_reason ? ` (${p.overage.disabled_reason})` : ''}`);
    const label = p.account ? `${p.package_id} · ${p.account}` : p.package_id;
    const node = el('article', { class: 'card', 'data-package': p.package_id, 'data-key': keyOf(p), 'data-alert': p.alert, tabindex: 0, 'aria-label': `${label}: ${p.alert}` },
      alert, el('h3', { text: p.package_id }), el('div', { class: 'sub', text: `${p.provider_id} · ${p.package_type.replace('_', ' ')}` }), bar, dl);
    if (p.last_poll_error) node.append(el('p', { class: 'error', text: `last poll error: ${p.last_poll_error}` }));
    if (p.notes) node.append(el('p', { class: 'notes', text: p.notes }));
    node.style.borderLeftColor = color;
    if (p.account) node.dataset.account = p.account;
    if (!figures.has(keyOf(p))) figures.set(keyOf(p), window.qgForecast.figure(label));
    node.append(figures.get(keyOf(p)).node);
    return node;
  }

  // One card per (package, account): an account's cards carry its id.
  function keyOf(p) {
    return p.account_id ? `${p.package_id}@${p.account_id}` : p.package_id;
  }

  // Each card's plot: the engine's history and forecast for that package (and account).
  let drawing = 0;
  async function drawPlots(packages) {
    const round = ++drawing;
    const keys = new Set(packages.map(keyOf));
    for (const [key, f] of figures) if (!keys.has(key)) { f.destroy(); figures.delete(key); }
    await Promise.all(packages.map(async (p) => {
      const account = p.account_id ? `&account=${encodeURIComponent(p.account_id)}` : '';
      const f = figures.get(keyOf(p));
      try {
        const u = await getJson(`/api/usage?package=${encodeURIComponent(p.package_id)}&range=7d${account}`);
        if (round === drawing) f.draw(u);
      } catch (err) {
        if (round === drawing) f.fail(err.message);
      }
    }));
  }

  function render(doc) {
    document.getElementById('demo-badge').hidden = !doc.demo;
    const summary = document.getElementById('summary');
    summary.textContent = '';
    for (const a of ALERT_ORDER) {
      const pill = el('span', { class: 'pill', 'data-alert': a, text: `${a.replace(/_/g, ' ')}: ${doc.by_alert[a] || 0}` });
      pill.style.background = `var(--${a})`;
      summary.append(pill);
    }
    const empty = document.getElementById('empty');
    empty.hidden = doc.count > 0;
    document.getElementById('catalog-error').textContent = doc.catalog_error || '';
    // A local ledger that cannot write (requests are refused until it can), or a shared ledger that
    // is unreachable (this instance counts only its own traffic until it is back).
    const degraded = document.getElementById('ledger-degraded');
    const ledger = doc.ledger || {};
    degraded.hidden = !ledger.degraded;
    degraded.textContent = !ledger.degraded ? ''
      : ledger.backend !== 'postgres' || /journal|checkpoint/.test(ledger.reason || '')
        ? `Usage ledger degraded: ${ledger.reason || 'writes are failing'}. Requests are refused until usage can be recorded again.`
        : `Shared ledger degraded (${ledger.connected === false ? 'PostgreSQL unreachable' : 'shipping stalled'}; ${ledger.unshipped_events || 0} events waiting): other instances' usage is not counted here until it recovers.`;
    const cards = document.getElementById('cards');
    const groups = document.getElementById('account-groups');
    cards.textContent = '';
    groups.textContent = '';
    // Packages of a provider's only key in the main grid; each account's (a caller's login, or one
    // of several configured keys) under its own heading.
    const byAccount = new Map();
    for (const p of sortPackages(doc.packages)) {
      const c = card(p);
      if (!p.account) {
        cards.append(c);
        continue;
      }
      const key = `${p.provider_id}\u0000${p.account}`;
      if (!byAccount.has(key)) {
        const grid = el('div', { class: 'cards' });
        const section = el('section', { class: 'account-group', 'data-account': p.account, 'aria-label': `account ${p.account}` },
          el('h2', { text: `Account ${p.account}` }), el('div', { class: 'sub', text: `${p.provider_id}${p.account_id !== p.account ? ` · fingerprint ${p.account_id}` : ''}` }), grid);
        byAccount.set(key, grid);
        groups.append(section);
      }
      byAccount.get(key).append(c);
    }
    for (const s of doc.skipped_packages || []) cards.append(el('article', { class: 'card' }, el('h3', { text: s.package_id }), el('p', { class: 'error', text: `skipped: ${s.reason}` })));
    drawPlots(doc.packages);  // the cards are in the page now: each plot sizes itself to its card
    const tbody = document.querySelector('#snapshots tbody');
    tbody.textContent = '';
    for (const [provider, snap] of Object.entries(doc.header_snapshots || {})) {
      const windows = snap.windows.map((w) => `${w.name}${w.utilization !== null ? ` ${Math.round(w.utilization * 100)}%` : ''}`).join(', ') ||
        (snap.requests.remaining !== null ? `requests ${snap.requests.remaining}/${snap.requests.limit ?? '?'}` : '–');
      tbody.append(el('tr', {}, el('td', { text: provider }), el('td', { text: snap.dialect }), el('td', { text: snap.status }),
        el('td', { text: countdown(snap.observed_at) }), el('td', { text: windows })));
    }
  }

  async function refresh() {
    try {
      lastDoc = await getJson('/api/quotas');
      lastOk = Date.now();
      render(lastDoc);
      document.getElementById('stale').hidden = true;
    } catch (err) {
      const stale = document.getElementById('stale');
      stale.hidden = false;
      stale.textContent = `Server not answering (${err.message}); showing data from ${lastOk ? new Date(lastOk).toLocaleTimeString() : 'never'}.`;
    }
    document.getElementById('updated').textContent = lastOk ? `updated ${new Date(lastOk).toLocaleTimeString()} · every ${intervalS}s` : 'no data yet';
  }

  document.getElementById('refresh').addEventListener('click', refresh);
  refresh();
  setInterval(refresh, intervalS * 1000);
  window.qgQuotas = { refresh, last: () => lastDoc };
})();
