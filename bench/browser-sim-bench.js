// The what-if simulator in Debian's Chromium, driven by Playwright: a 30-day simulation of the
// 11-package template catalog at 10k requests a day, both policies, timed inside the page.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { normalise } = require('../host-node/lib/config');
const { startGateway } = require('../host-node/lib/serve');

async function runBrowserSimBench() {
  if (!fs.existsSync('/usr/bin/chromium')) return [{ name: 'simulator in Chromium', note: 'skipped: /usr/bin/chromium not installed' }];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-simbench-'));
  const config = normalise({ server: { port: 0 }, log_level: 'warn' }, '(bench)');
  const gw = await startGateway({ config, demo: true, dataDir: dir, logStream: fs.createWriteStream('/dev/null') });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--disable-gpu', '--disable-quic'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${gw.url}/dashboard/simulate`);
    await page.waitForFunction(() => window.qgSim && window.qgSim.ready);
    const rows = [];
    for (const policy of ['quota_aware', 'both']) {
      const times = await page.evaluate((p) => {
        const scenario = { horizon_hours: 720, policy: p, traffic: [{ model: 'auto', per_hour: 10000 / 24, cost_per_request: 0.002 }] };
        const out = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const r = window.qgSim.run(scenario);
          out.push(performance.now() - t0);
          if (r.error) throw new Error(r.error);
        }
        return out.sort((a, b) => a - b);
      }, policy);
      rows.push({ name: `30-day simulation in Chromium (${policy === 'both' ? 'both policies' : 'one policy'})`, mean: times.reduce((a, b) => a + b) / times.length * 1000,
        p50: times[2] * 1000, note: `median ${times[2].toFixed(0)} ms of 5 runs (11 packages, 10k req/day)` });
    }
    return rows;
  } finally {
    await browser.close();
    await gw.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runBrowserSimBench };

if (require.main === module) runBrowserSimBench().then((rows) => rows.forEach((r) => console.log(r.name, r.note)));
