// The dashboard in Debian's Chromium: no console errors, urgency order, inert XSS, forecast plots
// that agree with /api/quotas, live polling, the in-browser simulator (two policies, URL round
// trip) and agreement with the CLI.
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function watchConsole(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

test('quotas page: no console errors, cards in urgency order, XSS inert', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/dashboard/quotas');
  await expect(page.locator('.card[data-alert]')).toHaveCount(6);
  const order = await page.locator('.card[data-alert]').evaluateAll((cards) => cards.map((c) => c.dataset.alert));
  expect(order).toEqual(['exhausted', 'use_or_lose', 'expired', 'topup', 'watch', 'ok']);
  await expect(page.locator('.summary .pill[data-alert="use_or_lose"]')).toHaveText('use or lose: 1');
  const notes = page.locator('.card[data-package="expiring-credits"] .notes');
  await expect(notes).toContainText('<img src=x onerror=');
  expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  expect(await page.locator('.card img, .card script').count()).toBe(0);
  await expect(page.locator('.card[data-package="expiring-credits"] canvas')).toHaveCount(1);
  await page.screenshot({ path: test.info().outputPath('quotas.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('forecast plots: every card\'s line agrees with /api/quotas, lost capacity shaded, plot and legend inside the card', async ({ page, request }) => {
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto('/dashboard/quotas');
  await expect(page.locator('.card[data-alert] figure.forecast[data-points]')).toHaveCount(6);
  const quotas = await (await request.get('/api/quotas')).json();
  const plotted = await page.locator('.card[data-alert]').evaluateAll((cards) => cards.map((c) => ({
    id: c.dataset.package, points: JSON.parse(c.querySelector('figure.forecast').dataset.points) })));
  const sec = (iso) => Date.parse(iso) / 1000;
  for (const { id, points: d } of plotted) {
    const q = quotas.packages.find((p) => p.package_id === id);
    const line = d.t.map((t, i) => [t, d.forecast[i]]).filter(([, v]) => v !== null);
    const lost = d.t.map((t, i) => [t, d.lost[i]]).filter(([, v]) => v !== null);
    const [[now, first], [end, last]] = [line[0], line[line.length - 1]];
    expect(first, `${id}: remaining now`).toBeCloseTo(q.remaining, 5);
    expect(d.lost_units, `${id}: lost = expiring_capacity`).toBeCloseTo(q.expiring_capacity, 2);
    // The page and this test asked a second or so apart: the pace (and so the instant) may move a little.
    if (q.exhausts_at) {
      expect(d.until, id).toBe('exhaustion');
      expect(Math.abs(end - sec(q.exhausts_at)), `${id}: ends at exhausts_at`).toBeLessThanOrEqual(10 + 0.01 * (sec(q.exhausts_at) - now));
      expect(last, id).toBe(0);
      expect(lost, `${id}: nothing lost`).toEqual([]);
    } else if (d.until === 'reset' || d.until === 'expiry') {
      expect(end, `${id}: ends at the ${d.until}`).toBe(sec(d.until === 'reset' ? q.reset_at : q.expires_at));
      expect(last, `${id}: what is left there`).toBeCloseTo(q.expiring_capacity, 2);
      if (q.expiring_capacity > 0) {  // shaded from now to the loss, at the lost amount
        expect(lost[0][0]).toBe(now);
        expect(lost[lost.length - 1][0]).toBe(end);
        for (const [, v] of lost) expect(v).toBeCloseTo(q.expiring_capacity, 2);
      }
    } else {
      expect(['exhausted', 'expired', 'horizon'], id).toContain(d.until);
      expect(q.expiring_capacity, id).toBe(0);
    }
    // History: the last 7 days for credits, the current window (today) for daily packages.
    const history = d.t.filter((t, i) => d.remaining[i] !== null);
    expect(history[history.length - 1], `${id}: history ends now`).toBe(now);
    if (q.package_type === 'daily') expect(history[0], id).toBe(sec(q.reset_at) - 86400);
    else expect(now - history[0], id).toBeGreaterThan(6.5 * 86400);
  }
  // The known forecasts: 20 idle credits expiring in 5 days are all lost at the expiry; 8 of 10
  // used today either run out at today's pace or leave the rest at midnight; 5 of 5 used is flat.
  const byId = Object.fromEntries(plotted.map((p) => [p.id, p.points]));
  expect(byId['expiring-credits'].until).toBe('expiry');
  expect(byId['expiring-credits'].lost_units).toBe(20);
  expect(['exhaustion', 'reset']).toContain(byId['watch-daily'].until);
  expect(byId['exhausted-credits'].until).toBe('exhausted');
  await expect(page.locator('.card[data-package="expiring-credits"] .u-legend')).toContainText('will be lost: $20.00');
  await expect(page.locator('.card[data-package="expiring-credits"] .forecast-note')).toContainText('$20.00 will be lost at the expiry');
  // Every plot and its legend stay inside their card.
  const boxes = await page.locator('.card[data-alert]').evaluateAll((cards) => cards.map((c) => {
    const box = c.getBoundingClientRect();
    return { id: c.dataset.package, left: box.left, right: box.right, inner: [...c.querySelectorAll('.uplot, canvas, .u-legend')].map((e) => {
      const b = e.getBoundingClientRect();
      return [b.left, b.right];
    }) };
  }));
  for (const b of boxes) {
    expect(b.inner.length, b.id).toBeGreaterThanOrEqual(3);
    for (const [l, r] of b.inner) expect(l >= b.left - 0.5 && r <= b.right + 0.5, JSON.stringify(b)).toBe(true);
  }
  expect(await page.content()).not.toContain('sk-e2e-');
  await page.screenshot({ path: test.info().outputPath('forecast.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('polling picks up a change made through the gateway', async ({ page, request }) => {
  await page.goto('/dashboard/quotas?interval=1');
  const remaining = page.locator('.card[data-package="ok-credits"] dd').first();
  await expect(remaining).toContainText('$100.00 of $100.00');
  const res = await request.post('/v1/chat/completions', { data: { model: 'zeta-model', messages: [{ role: 'user', content: 'hi' }] } });
  expect(res.status()).toBe(200);
  await expect(remaining).toContainText('$99.98 of $100.00', { timeout: 5000 });
  await expect(page.locator('#snapshots tbody tr', { hasText: 'zeta' })).toContainText('openai');
});

test('what-if: a run updates charts and totals, policies differ, the scenario round-trips via the URL', async ({ page }) => {
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto('/dashboard/simulate');
  await page.waitForFunction(() => window.qgSim && window.qgSim.ready);
  await page.fill('#horizon', '168');
  const traffic = page.locator('#traffic tbody tr').first();
  await traffic.locator('input').nth(0).fill('auto');
  await traffic.locator('input').nth(1).fill('10');
  await traffic.locator('input').nth(3).fill('0.05');
  await page.click('#run');
  // The plan, naive and the hindsight optimum (numbers only: an offline plan has no time series).
  await expect(page.locator('.result')).toHaveCount(3);
  await expect(page.locator('.result canvas')).toHaveCount(2);
  await expect(page.locator('.result[data-policy="hindsight"] .totals')).toContainText('cost (lost value + spent)');
  await expect(page.locator('.result[data-policy="quota_aware"] .totals')).toContainText('served');
  // At 1,400 px every plot and legend stays inside its own column: none reaches the next one.
  const boxes = await page.evaluate(() => [...document.querySelectorAll('.result')].map((r) => {
    const box = r.getBoundingClientRect();
    const inner = [...r.querySelectorAll('.uplot, canvas, .u-legend')].map((e) => e.getBoundingClientRect());
    return { left: box.left, right: box.right, inner: inner.map((b) => [b.left, b.right]) };
  }));
  for (const b of boxes) for (const [l, r] of b.inner) expect(l >= b.left - 0.5 && r <= b.right + 0.5, JSON.stringify(b)).toBe(true);
  for (let i = 1; i < boxes.length; i++) if (boxes[i].left > boxes[i - 1].left) expect(boxes[i - 1].right).toBeLessThanOrEqual(boxes[i].left);
  await expect(page.locator('#messages')).toContainText('quota-aware routing uses $');
  await expect(page.locator('#messages')).toContainText('of expiring-credits credits that would otherwise expire');
  await expect(page.locator('.result[data-policy="quota_aware"] td.better').first()).toBeVisible();
  const url = page.url();
  expect(url).toContain('#scenario=');
  await page.screenshot({ path: test.info().outputPath('simulate.png'), fullPage: true });

  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction(() => window.qgSim && window.qgSim.ready);
  await expect(page.locator('#horizon')).toHaveValue('168');
  await expect(page.locator('#traffic tbody tr').first().locator('input').nth(1)).toHaveValue('10');
  await expect(page.locator('.result')).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('the browser and the CLI simulator agree exactly', async ({ page }) => {
  await page.goto('/dashboard/simulate');
  await page.waitForFunction(() => window.qgSim && window.qgSim.ready);
  const { state, scenario, result } = await page.evaluate(() => {
    const s = { horizon_hours: 72, start: JSON.parse(window.qgSim.state()).generated_at, traffic: [{ model: 'auto', per_hour: 12, cost_per_request: 0.03 }],
      tweaks: [{ package_id: 'ok-credits', add_credits: 5 }] };
    return { state: window.qgSim.state(), scenario: s, result: window.qgSim.run(s) };
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-e2e-sim-'));
  fs.writeFileSync(path.join(dir, 'state.json'), state);
  fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify(scenario));
  const cli = execFileSync(process.execPath, [path.join(__dirname, '..', 'host-node', 'bin', 'quotagate'), 'simulate',
    path.join(dir, 'scenario.json'), '--state', path.join(dir, 'state.json'), '--json'], { encoding: 'utf8' });
  expect(JSON.stringify(JSON.parse(cli))).toBe(JSON.stringify(result));
  // 72 h at 12 an hour, and on until the costs are settled (a balance expiring soon after).
  const settledHours = (Date.parse(result.settled_until) - Date.parse(result.start)) / 3600000;
  expect(settledHours).toBeGreaterThanOrEqual(72);
  expect(Math.abs(result.policies.quota_aware.requests - 12 * settledHours)).toBeLessThanOrEqual(12);
});

test('accounts: two callers\' own logins are two account groups, and no credential reaches the page', async ({ page, request }) => {
  const errors = watchConsole(page);
  const tokens = ['e2e-PLANTED-login-alice-0a1b', 'e2e-PLANTED-login-bob-2c3d'];
  for (const [i, token] of tokens.entries()) {
    for (let n = 0; n <= i; n++) {
      const res = await request.post('/v1/messages', { headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01' },
        data: { model: 'sub-model', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.status()).toBe(200);
      expect(res.headers()['x-quotagate-account']).toMatch(/^[0-9a-f]{12}$/);
    }
  }
  await page.goto('/dashboard/quotas');
  const groups = page.locator('.account-group');
  await expect(groups).toHaveCount(2);
  await expect(page.locator('.account-group .card[data-package="sub-5h"]')).toHaveCount(2);
  const used = await page.locator('.account-group .card[data-package="sub-5h"]').evaluateAll((cards) => cards.map((c) => c.dataset.account));
  expect(new Set(used).size).toBe(2);
  await expect(page.locator('.account-group .card[data-package="sub-5h"] dt', { hasText: 'opus window' })).toHaveCount(2);
  const html = await page.content();
  for (const t of tokens) expect(html).not.toContain(t);
  // Each account's card plots its own history and forecast.
  await expect(page.locator('.account-group .card[data-package="sub-5h"] canvas')).toHaveCount(2);
  const remaining = await page.locator('.account-group .card[data-package="sub-5h"] figure.forecast[data-points]').evaluateAll((figs) =>
    figs.map((f) => JSON.parse(f.dataset.points)).map((d) => d.forecast.find((v) => v !== null)).sort((a, b) => a - b));
  expect(remaining).toEqual([48, 49]);
  expect(errors).toEqual([]);
});

test('login: with an admin token, Chromium reaches the dashboard through the login form (styled), and a wrong token does not', async ({ browser }) => {
  const { startTestGateway } = require('../host-node/test/helpers');
  const token = 'e2e-admin-token-0123456789abcdef';
  const gw = await startTestGateway({ fakes: { up: {} }, server: { admin_token: token },
    catalog: { day: { provider_id: 'up', package_type: 'daily', limit_per_day: 5, reset_timezone: 'UTC', models: ['*'] } } });
  const page = await browser.newPage();
  try {
    await page.goto(`${gw.url}/dashboard/quotas`);
    await expect(page).toHaveURL(/\/dashboard\/login$/);
    // The stylesheet loads before login (the form is styled, not raw).
    const css = await page.evaluate(() => [...document.styleSheets].some((s) => { try { return s.cssRules.length > 0; } catch { return false; } }));
    expect(css).toBe(true);
    await page.fill('input[name=token]', 'not-the-token');
    await page.click('button');
    await expect(page.locator('body')).toContainText('wrong token');
    await page.goto(`${gw.url}/dashboard/login`);
    await page.fill('input[name=token]', token);
    await page.click('button');
    await expect(page).toHaveURL(/\/dashboard\/quotas$/);
    await expect(page.locator('.card[data-package="day"]')).toBeVisible();
    expect(await page.content()).not.toContain(token);
  } finally {
    await page.close();
    await gw.stop();
  }
});
