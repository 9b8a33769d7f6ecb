// The gateway for the translation rows: two providers on the multi-format bench upstream, one
// speaking Chat Completions (model "m-chat") and one speaking Messages (model "m-messages"), each
// with a daily package; shipped durability and logging as in gateway.js. argv[2] = upstream port,
// argv[3] = data dir. Prints "READY <port>".
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { logDestination } = require('../../host-node/lib/log-destination');
const { normalise } = require('../../host-node/lib/config');
const { startGateway } = require('../../host-node/lib/serve');

(async () => {
  const [port, dir] = process.argv.slice(2);
  const metadata = path.join(dir, 'metadata');
  fs.mkdirSync(path.join(metadata, 'packages'), { recursive: true });
  fs.writeFileSync(path.join(metadata, 'packages', 'catalog.v1.json'), JSON.stringify({ schema_version: 1, packages: {
    c: { provider_id: 'oc', package_type: 'daily', limit_per_day: 1e9, models: ['*'] },
    m: { provider_id: 'an', package_type: 'daily', limit_per_day: 1e9, models: ['*'] } } }));
  const config = normalise({
    server: { port: 0 }, metadata_dir: metadata, log_level: process.env.QG_BENCH_LOG_LEVEL || 'info',
    providers: [{ name: 'oc', base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-bench', models: ['m-chat'] },
      { name: 'an', backend: 'anthropic', base_url: `http://127.0.0.1:${port}`, api_key: 'sk-bench', models: ['m-messages'] }],
    ledger: { dir: path.join(dir, 'ledger') },
  }, path.join(dir, 'config.yaml'));
  const gw = await startGateway({ config, logStream: logDestination(path.join(dir, 'gateway.log')) });
  process.stdout.write(`READY ${gw.port}\n`);
})();
