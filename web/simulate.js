// What-if page: loads the wasm engine, seeds it from /api/state, edits a scenario (kept in the
// URL), runs the core's simulator in the page and shows both policies side by side.
'use strict';
(() => {
  const { el, getJson, money } = window.qgCommon;
  const SHAPES = {
    flat: null,
    office: [0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.4, 1.8, 1.9, 1.8, 1.5, 1.7, 1.9, 1.9, 1.7, 1.3, 0.8, 0.5, 0.3, 0.2, 0.1, 0.1],
    evening: [0.6, 0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1, 1, 1, 1.1, 1.2, 1.4, 1.7, 1.9, 2, 1.9, 1.5, 1],
  };
  let core = null;
  let stateText = null;
  let state = null;
  const charts = [];
  const status = (t) => { document.getElementById('sim-status').textContent = t; };

  function trafficRow(t = {}) {
    const shape = el('select', { 'aria-label': 'daily shape' }, ...Object.keys(SHAPES).map((k) => el('option', { value: k, text: k })));
    shape.value = t.shape || 'flat';
    const row = el('tr', {},
      el('td', {}, el('input', { 'aria-label': 'model', value: t.model || 'auto', size: 18 })),
      el('td', {}, el('input', { type: 'number', 'aria-label': 'requests per hour', min: 0, step: 'any', value: t.per_hour ?? 20 })),
      el('td', {}, el('input', { type: 'number', 'aria-label': 'growth percent per day', step: 'any', value: t.growth_pct ?? 0 })),
      el('td', {}, el('input', { type: 'number', 'aria-label': 'cost per request', min: 0, step: 'any', value: t.cost_per_request ?? 0.01 })),
      el('td', {}, shape),
      el('td', {}, el('button', { type: 'button', class: 'remove', text: 'remove' })));
    row.querySelector('.remove').addEventListener('click', () => row.remove());
    document.querySelector('#traffic tbody').append(row);
  }

  function tweakRow(t = {}) {
    const pkg = el('select', { 'aria-label': 'package' }, ...Object.keys(state.catalog.packages).map((id) => el('option', { value: id, text: id })));
    if (t.package_id) pkg.value = t.package_id;
    const row = el('tr', {},
      el('td', {}, pkg),
      el('td', {}, el('input', { type: 'number', 'aria-label': 'add credits', step: 'any', value: t.add_credits ?? '' })),
      el('td', {}, el('input', { type: 'date', 'aria-label': 'expiry date', value: t.expiry_date ?? '' })),
      el('td', {}, el('input', { type: 'number', 'aria-label': 'limit', min: 1, step: 'any', value: t.limit ?? '' })),
      el('td', {}, el('input', { type: 'checkbox', 'aria-label': 'disable package', ...(t.disabled ? { checked: '' } : {}) })),
      el('td', {}, el('button', { type: 'button', class: 'remove', text: 'remove' })));
    row.querySelector('.remove').addEventListener('click', () => row.remove());
    document.querySelector('#tweaks tbody').append(row);
  }

  function providerIds() {
    const ids = (state.providers || []).map((p) => p.id);
    return ids.length ? ids : [...new Set(Object.values(state.catalog.packages).map((p) => p.provider_id))];
  }

  // The form as a scenario document (the simulator's input, docs/simulator.md).
  function readForm() {
    const traffic = [...document.querySelectorAll('#traffic tbody tr')].map((r) => {
      const [model, perHour, growth, cost] = r.querySelectorAll('input');
      const shape = r.querySelector('select').value;
      return { model: model.value || 'auto', per_hour: Number(perHour.value) || 0, growth_per_day: (Number(growth.value) || 0) / 100,
        cost_per_request: Number(cost.value) || 0, ...(SHAPES[shape] ? { daily_shape: SHAPES[shape], shape } : {}) };
    });
    const tweaks = [...document.querySelectorAll('#tweaks tbody tr')].map((r) => {
      const [credits, expiry, limit, disabled] = r.querySelectorAll('input');
      const t = { package_id: r.querySelector('select').value };
      if (credits.value !== '') t.add_credits = Number(credits.value);
      if (expiry.value) t.expiry_date = expiry.value;
      if (limit.value !== '') t.limit = Number(limit.value);
      if (disabled.checked) t.disabled = true;
      return t;
    });
    const disable = [...document.querySelectorAll('#providers-box input')].filter((c) => !c.checked).map((c) => c.value);
    return { horizon_hours: Number(document.getElementById('horizon').value) || 168, policy: document.getElementById('policy').value,
      traffic, tweaks, disable_providers: disable, start: state.generated_at };
  }

  function writeForm(s) {
    document.getElementById('horizon').value = s.horizon_hours ?? 168;
    document.getElementById('policy').value = s.policy || 'all';
    document.querySelector('#traffic tbody').textContent = '';
    for (const t of s.traffic && s.traffic.length ? s.traffic : [{}]) trafficRow({ ...t, growth_pct: (t.growth_per_day || 0) * 100 });
    document.querySelector('#tweaks tbody').textContent = '';
    for (const t of s.tweaks || []) tweakRow(t);
    for (const c of document.querySelectorAll('#providers-box input')) c.checked = !(s.disable_providers || []).includes(c.value);
  }

  function scenarioFromUrl() {
    const m = /[#&]scenario=([^&]+)/.exec(location.hash);
    if (!m) return null;
    try {
      return JSON.parse(decodeURIComponent(m[1]));
    } catch {
      return null;
    }
  }

  function run(scenario) {
    const t0 = performance.now();
    const out = JSON.parse(core.simulateJson(stateText, JSON.stringify(scenario)));
    const ms = performance.now() - t0;
    window.qgSim.lastMs = ms;
    return { out, ms };
  }

  function cellClass(a, b, lowerIsBetter) {
    if (a === b) return '';
    return (lowerIsBetter ? a < b : a > b) ? 'better' : 'worse';
  }

  function renderResults(out, ms) {
    for (const c of charts.splice(0)) c.destroy();
    const results = document.getElementById('results');
    results.textContent = '';
    if (out.error) {
      results.append(el('p', { class: 'error', text: out.error }));
      status('simulation failed');
      return;
    }
    const names = Object.keys(out.policies);
    // Each policy is compared with one other: the plan with naive, the others with the plan.
    const other = (n) => out.policies[n === 'quota_aware' ? (out.policies.naive ? 'naive' : 'hindsight') : 'quota_aware'];
    const titles = { quota_aware: 'Quota-aware routing (the plan)', naive: 'Without quota terms (naive)', hindsight: 'Hindsight optimum (knows all traffic)' };
    for (const name of names) {
      const r = out.policies[name];
      const o = other(name);
      const box = el('section', { class: 'result', 'data-policy': name, 'aria-label': name });
      box.append(el('h2', { text: titles[name] || name }));
      const totals = el('table', { class: 'totals' }, el('tbody'));
      const row = (label, value, cls) => totals.tBodies[0].append(el('tr', {}, el('th', { scope: 'row', text: label }), el('td', { class: cls || '', text: value })));
      const wasted = Object.entries(r.wasted_money).map(([c, v]) => money(v, c)).join(', ') || money(0, 'USD');
      row('requests', r.requests);
      row('served', r.served, o ? cellClass(r.served, o.served, false) : '');
      row('no capacity', r.unserved, o ? cellClass(r.unserved, o.unserved, true) : '');
      row('rejected attempts', r.failed_attempts, o ? cellClass(r.failed_attempts, o.failed_attempts, true) : '');
      row('credits lost at expiry', wasted, o ? cellClass(Object.values(r.wasted_money).reduce((a, b) => a + b, 0), Object.values(o.wasted_money).reduce((a, b) => a + b, 0), true) : '');
      row('cost (lost value + spent)', money(r.cost_usd, 'USD'), o ? cellClass(r.cost_usd, o.cost_usd, true) : '');
      row('lost value', money(r.lost_value_usd, 'USD'));
      row('spent', money(r.spent_usd, 'USD'));
      box.append(totals);
      const pk = el('table', { class: 'packages' }, el('thead', {}, el('tr', {}, ...['package', 'used', 'exhausts', 'lost'].map((h) => el('th', { scope: 'col', text: h })))), el('tbody'));
      r.packages.forEach((p, i) => {
        const op = o ? o.packages[i] : null;
        pk.tBodies[0].append(el('tr', { 'data-package': p.package_id }, el('td', { text: p.package_id }), el('td', { text: money(p.used_units, p.unit) }),
          el('td', { text: p.exhausts_at ? new Date(p.exhausts_at).toLocaleString() : '–' }),
          el('td', { class: op ? cellClass(p.wasted_units, op.wasted_units, true) : '', text: money(p.wasted_units, p.unit) })));
      });
      box.append(pk);
      box.append(el('h3', { text: 'Traffic share' }), el('p', { class: 'share', text: Object.entries(r.share).map(([k, v]) => `${k} ${Math.round((100 * v) / Math.max(1, r.served))}%`).join(' · ') || '–' }));
      results.append(box);  // in the document first, so the chart can size itself to its box
      if (!r.series.t.length) {
        box.append(el('p', { class: 'note', text: 'An offline plan over the whole horizon: no time series.' }));
        continue;
      }
      const chartBox = el('div', { class: 'chart', 'aria-label': `remaining capacity over time, ${name}` });
      box.append(el('h3', { text: 'Remaining over time (share of capacity)' }), chartBox);
      const ids = Object.keys(r.series.remaining);
      const totalsById = Object.fromEntries(ids.map((id) => [id, Math.max(1e-9, ...r.series.remaining[id])]));
      const data = [r.series.t.map((t) => t / 1000), ...ids.map((id) => r.series.remaining[id].map((v) => v / totalsById[id]))];
      const palette = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037', '#ad1457', '#558b2f', '#283593', '#9e9d24'];
      const plot = new window.uPlot({ width: Math.max(200, chartBox.clientWidth), height: 220, legend: { show: ids.length <= 16, live: false },
        series: [{}, ...ids.map((id, i) => ({ label: id, stroke: palette[i % palette.length], width: 1.5 }))], scales: { y: { range: [0, 1] } } }, data, chartBox);
      // The plot follows its column's width (a resized window, a scrollbar appearing).
      const fit = new ResizeObserver(() => plot.setSize({ width: Math.max(200, chartBox.clientWidth), height: 220 }));
      fit.observe(chartBox);
      charts.push({ destroy: () => { fit.disconnect(); plot.destroy(); } });
    }
    const msgs = document.getElementById('messages');
    msgs.textContent = '';
    const comparison = out.comparison && out.comparison.messages.length ? out.comparison.messages : ['no difference between the policies for this scenario'];
    for (const m of comparison) msgs.append(el('li', { text: m }));
    document.getElementById('comparison').hidden = !out.comparison;
    status(`ran in ${ms.toFixed(0)} ms in this browser (${out.start} → ${out.end}; costs settled until ${out.settled_until})`);
  }

  async function start() {
    const [stateDoc, module] = await Promise.all([getJson('/api/state'), window.createQuotagateModule()]);
    core = module;
    state = stateDoc.state;
    stateText = JSON.stringify(state);
    document.getElementById('demo-badge').hidden = !stateDoc.demo;
    const box = document.getElementById('providers-box');
    for (const id of providerIds()) box.append(el('label', {}, el('input', { type: 'checkbox', value: id, checked: '' }), ` ${id}`));
    writeForm(scenarioFromUrl() || { horizon_hours: 168, traffic: [{ model: 'auto', per_hour: 40, cost_per_request: 0.02 }] });
    document.getElementById('add-traffic').addEventListener('click', () => trafficRow());
    document.getElementById('add-tweak').addEventListener('click', () => tweakRow());
    document.getElementById('scenario').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const scenario = readForm();
      history.replaceState(null, '', `#scenario=${encodeURIComponent(JSON.stringify(scenario))}`);
      status('running…');
      setTimeout(() => {
        const { out, ms } = run(scenario);
        renderResults(out, ms);
      }, 0);
    });
    status('ready');
    window.qgSim.ready = true;
    if (scenarioFromUrl()) document.getElementById('run').click();
  }

  window.qgSim = { ready: false, lastMs: null, run: (s) => run(s).out, state: () => stateText, scenario: () => readForm() };
  start().catch((err) => status(`could not start: ${err.message}`));
})();
