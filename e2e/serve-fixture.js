// The gateway the browser tests run against: fake providers on loopback and a catalog built
// relative to now, so that every alert is present whatever the time of day, plus a seeded ledger.
// Prints nothing secret; listens on $PORT (8123).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FakeProvider } = require('../host-node/lib/demo/fake-provider');
const { LedgerStore } = require('../host-node/lib/ledger-store');
const { normalise } = require('../host-node/lib/config');
const { startGateway } = require('../host-node/lib/serve');

const DAY = 86400000;
const date = (ms) => new Date(ms).toISOString().slice(0, 10);

(async () => {
  const now = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-e2e-'));
  const packages = {
    'ok-credits': { provider_id: 'zeta', total_credits: 100, used_credits: 0, models: ['zeta-model'], notes: 'Plenty left.' },
    'watch-daily': { provider_id: 'eps', package_type: 'daily', limit_per_day: 10, models: ['eps-model'], notes: '8 of 10 used today.' },
    'expired-credits': { provider_id: 'gamma', total_credits: 10, used_credits: 1, expiry_date: date(now - 2 * DAY), models: ['gamma-model'] },
    'exhausted-credits': { provider_id: 'alpha', total_credits: 5, used_credits: 5, models: ['alpha-model'] },
    'topup-daily': { provider_id: 'delta', package_type: 'daily', limit_per_day: 20, models: ['delta-model'] },
    'expiring-credits': { provider_id: 'beta', total_credits: 20, used_credits: 0, expiry_date: date(now + 5 * DAY), models: ['beta-model'],
      notes: 'Promo credits <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>' },
    // A subscription each caller reaches with its own login (auth: client): no card until a caller comes.
    'sub-5h': { provider_id: 'sub', package_type: 'rolling_window', window_hours: 5, limit_per_window: 50, models: ['sub-model'],
      model_windows: [{ family: 'opus', window_hours: 168 }] },
  };
  const metadata = path.join(dir, 'metadata', 'packages');
  fs.mkdirSync(metadata, { recursive: true });
  fs.writeFileSync(path.join(metadata, 'catalog.v1.json'), JSON.stringify({ schema_version: 1, packages }, null, 2));

  // Today's usage: 8 of 10 on watch-daily, 19 of 20 on topup-daily (seeded a minute ago, UTC day).
  const ledger = new LedgerStore({ dir: path.join(dir, 'ledger') });
  await ledger.open(now);
  const seedAt = Math.max(now - 60000, Math.floor(now / DAY) * DAY);
  for (let i = 0; i < 8; i++) ledger.append({ ts: seedAt, provider_id: 'eps', model: 'eps-model', status: 200, cost: 0, tokens_in: 1, tokens_out: 1 });
  for (let i = 0; i < 19; i++) ledger.append({ ts: seedAt, provider_id: 'delta', model: 'delta-model', status: 200, cost: 0, tokens_in: 1, tokens_out: 1 });
  ledger.close();

  // zeta first: the policy without quota terms then prefers it and lets beta's credits expire.
  const providers = [];
  for (const name of ['zeta', 'alpha', 'beta', 'gamma', 'delta', 'eps']) {
    const fake = await new FakeProvider({ name, latencyMs: 2 }).listen(0);
    providers.push({ name, base_url: `${fake.url}/v1`, api_key: `sk-e2e-${name}-key`, models: [`${name}-model`],
      price: { input_per_1m: 1000, output_per_1m: 1000 } });
  }
  const sub = await new FakeProvider({ name: 'sub', dialect: 'anthropic', latencyMs: 2, limit: 50, windowMs: 5 * 3600000, perCredential: true }).listen(0);
  providers.push({ name: 'sub', backend: 'anthropic', base_url: sub.url, auth: 'client', models: ['sub-model'] });
  const config = normalise({ server: { port: Number(process.env.PORT || 8123) }, providers, metadata_dir: path.join(dir, 'metadata'),
    ledger: { dir: path.join(dir, 'ledger') }, log_level: 'warn' }, path.join(dir, 'config.yaml'));
  await startGateway({ config });
  process.stdout.write(`e2e fixture gateway on ${config.server.port} (${dir})\n`);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
