// One package card's plot: its history (the last 7 days, or the current window when that is
// shorter) and the engine's forecast line from now to exhaustion or to the reset/expiry, with the
// capacity that will be lost there shaded. Every number comes from /api/usage (the engine's
// usage document: history, forecast); this file only draws. The plotted arrays are also in the
// figure's data-points attribute (numbers and labels only), for tests and for anyone curious.
'use strict';
window.qgForecast = (() => {
  const { el, money, countdown } = window.qgCommon;
  const sec = (iso) => Date.parse(iso) / 1000;
  const HEIGHT = 150;

  // The arrays handed to uPlot, by name: t (seconds since the epoch, ascending) and, per series,
  // one value or null per t.
  function plotData(u) {
    const used = new Map(), remaining = new Map(), forecast = new Map();
    if (u.history.basis === 'window') for (const p of u.history.points) used.set(sec(p.t), p.used);
    else for (const d of u.days) used.set(sec(d.start), u.unit === 'requests' ? d.units : d.cost);
    for (const p of u.history.points) remaining.set(sec(p.t), p.remaining);
    for (const p of u.forecast.points) forecast.set(sec(p.t), p.remaining);
    const t = [...new Set([...used.keys(), ...remaining.keys(), ...forecast.keys()])].sort((a, b) => a - b);
    const f = u.forecast;
    const from = sec(f.points[0].t), to = f.loss_at ? sec(f.loss_at) : null;
    const pick = (m) => t.map((x) => (m.has(x) ? m.get(x) : null));
    return { unit: u.unit, basis: u.history.basis, until: f.until, lost_units: f.lost, loss_at: f.loss_at, exhausts_at: f.exhausts_at,
      t, used: pick(used), remaining: pick(remaining), forecast: pick(forecast),
      lost: t.map((x) => (to !== null && x >= from && x <= to ? f.lost : null)) };
  }

  const UNTIL = { exhaustion: 'runs out', reset: 'to the reset', expiry: 'to the expiry', horizon: 'no reset or expiry ahead',
    exhausted: 'exhausted until the reset', expired: 'expired' };

  function caption(u) {
    const f = u.forecast;
    if (f.until === 'exhaustion') return `At this pace it runs out ${countdown(f.exhausts_at)}.`;
    if (f.loss_at) return `At this pace ${money(f.lost, u.unit)} will be lost at the ${f.until} (${countdown(f.loss_at)}).`;
    if (f.until === 'reset' || f.until === 'expiry') return `At this pace nothing is lost at the ${f.until} (${countdown(f.end)}).`;
    return UNTIL[f.until] ? `Forecast: ${UNTIL[f.until]}.` : '';
  }

  function options(d, width) {
    const at = { exhaustion: 'runs out', reset: 'to reset', expiry: 'to expiry' }[d.until] || d.until;
    return {
      width, height: HEIGHT, legend: { live: false },
      cursor: { points: { show: false } },
      scales: { y: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [{ space: 60 }, { size: (u, values) => Math.max(40, 14 + 7 * Math.max(0, ...(values || []).map((v) => String(v).length))) }],  // room for the longest tick label
      series: [{},
        { label: d.basis === 'window' ? 'used in window' : 'used / day', stroke: '#1565c0', width: 1.5, spanGaps: true, points: { show: true, size: 4 } },
        { label: 'remaining', stroke: '#2e7d32', width: 2, spanGaps: true },
        { label: `forecast (${at})`, stroke: '#2e7d32', width: 2, dash: [6, 4], spanGaps: true },
        // Only when something will be lost: the strip under the level left at the reset/expiry.
        ...(d.loss_at !== null ? [{ label: `will be lost: ${money(d.lost_units, d.unit)}`, stroke: 'rgba(198,40,40,.8)', fill: 'rgba(198,40,40,.2)',
          width: 1, spanGaps: true }] : [])],
    };
  }

  // A figure that keeps its plot across the page's re-renders (moved into the new card).
  function figure(label) {
    const note = el('p', { class: 'forecast-note' });
    const box = el('div', { class: 'chart', role: 'img', 'aria-label': `${label}: history and forecast` });
    const fig = el('figure', { class: 'forecast' }, box, note);
    let plot = null, signature = '', fit = null;
    function draw(u) {
      const d = plotData(u);
      fig.dataset.points = JSON.stringify(d);
      fig.dataset.until = d.until;
      note.textContent = caption(u);
      const data = [d.t, d.used, d.remaining, d.forecast, ...(d.loss_at !== null ? [d.lost] : [])];
      const sig = JSON.stringify([d.unit, d.basis, d.until, d.lost_units, d.loss_at !== null]);
      if (plot && sig === signature) return plot.setData(data);
      plot?.destroy();
      box.textContent = '';
      signature = sig;
      plot = new window.uPlot(options(d, Math.max(200, box.clientWidth || 280)), data, box);
      if (!fit) {
        fit = new ResizeObserver(() => { if (plot && box.clientWidth) plot.setSize({ width: Math.max(200, box.clientWidth), height: HEIGHT }); });
        fit.observe(box);
      }
    }
    function fail(message) {
      note.textContent = `no plot: ${message}`;
    }
    function destroy() {
      fit?.disconnect();
      plot?.destroy();
      plot = null;
    }
    return { node: fig, draw, fail, destroy };
  }

  return { plotData, figure };
})();
