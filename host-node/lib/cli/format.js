// Plain-text tables for the CLI (no quota maths here: every number comes from the engine).
'use strict';

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const num = (v, digits = 2) => (v === null || v === undefined ? '-' : Number(v).toFixed(digits));
const when = (iso) => (iso ? iso.replace('.000Z', 'Z') : '-');

function statusTable(doc) {
  const rows = doc.packages.map((p) => [
    p.package_id, p.provider_id, p.package_type, p.alert,
    `${num(p.remaining)}/${num(p.total)} ${p.unit}`, `${num(p.remaining_ratio * 100, 0)}%`,
    num(p.burn_per_day), p.reset_at ? when(p.reset_at) : (p.expiry_date || '-'), num(p.expiring_capacity), p.confidence,
  ]);
  let out = table(['package', 'provider', 'type', 'alert', 'remaining', 'left', 'burn/day', 'reset/expiry', 'expiring', 'confidence'], rows);
  if (doc.skipped_packages.length) {
    out += '\n\nskipped:\n' + doc.skipped_packages.map((s) => `  ${s.package_id}: ${s.reason}`).join('\n');
  }
  return out;
}

// The plan's order, best first: each candidate's terms (cost, value at risk, time to loss ...)
// and, under the table, why each one stands where it does.
function routeTable(decision) {
  if (!decision.ok) return `no route: ${decision.reason}`;
  const termNames = Object.keys(decision.ranked[0].terms);
  const rows = decision.ranked.map((c, i) => [
    String(i + 1), c.provider + (c.account_id ? `@${c.account_id}` : ''), c.package_id || '-', c.model, c.excluded ? c.exclusion : '',
    ...termNames.map((t) => num(c.terms[t])),
  ]);
  const why = decision.ranked.map((c, i) => `  ${i + 1}. ${c.provider} ${c.package_id || ''}: ${c.excluded ? c.exclusion : c.why}`);
  return `route -> ${decision.provider} (${decision.package_id || 'no package'}), model ${decision.model}\n` +
    `reason: ${decision.reason}\n\n` + table(['#', 'provider', 'package', 'model', 'excluded', ...termNames], rows) + `\n\n${why.join('\n')}`;
}

function simulationTable(result) {
  const policies = Object.keys(result.policies);
  const lines = [`simulation ${result.start} -> ${result.end} (costs settled until ${result.settled_until})`];
  const head = ['', ...policies];
  const row = (label, f) => [label, ...policies.map((p) => f(result.policies[p]))];
  lines.push(table(head, [
    row('requests', (r) => r.requests), row('served', (r) => r.served), row('no capacity', (r) => r.unserved),
    row('rejected attempts', (r) => r.failed_attempts),
    row('credits lost', (r) => Object.entries(r.wasted_money).map(([c, v]) => `${num(v)} ${c}`).join(', ') || '0'),
    row('cost USD', (r) => num(r.cost_usd)), row('  lost value USD', (r) => num(r.lost_value_usd)), row('  spent USD', (r) => num(r.spent_usd)),
    row('share', (r) => Object.entries(r.share).map(([k, v]) => `${k} ${Math.round((100 * v) / Math.max(1, r.served))}%`).join(' ')),
  ]));
  if (result.comparison) lines.push('', ...result.comparison.messages.map((m) => `- ${m}`));
  return lines.join('\n');
}

module.exports = { table, statusTable, routeTable, simulationTable };
