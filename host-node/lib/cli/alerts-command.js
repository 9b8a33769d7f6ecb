// `quotagate alerts test`: sends one sample alert to every configured target (config `alerts`) and
// says, per target, whether it was accepted. Exit code 1 when any target failed. Webhook URLs are
// secrets: only target names and HTTP statuses are printed, and error texts are redacted.
'use strict';
const { InputError } = require('../ledger-jsonl');
const { requiredConfig } = require('./cli-config');
const { Redactor, configSecrets } = require('../redact');
const { AlertService } = require('../alerts/alert-service');
const { undiciPost } = require('../alerts/alert-delivery');

// opts: {config, timeout}; out: a writable (stdout). Returns the number of failed targets.
async function alertsTest(opts, out = process.stdout, http = undiciPost) {
  const { file, config } = requiredConfig(opts);
  if (!config.alerts.length) throw new InputError(`${file}: alerts: no targets configured (see docs/alerts.md)`);
  const timeoutMs = Number(opts.timeout ?? 10) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1000 || timeoutMs > 120000) throw new InputError(`--timeout: expected seconds between 1 and 120, got "${opts.timeout}"`);
  const redactor = new Redactor(configSecrets(config));
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const service = new AlertService({ targets: config.alerts, quotas: () => ({ packages: [] }), delivery: null, dashboardUrl: `http://${host}:${config.server.port}/dashboard/quotas` });
  let failed = 0;
  for (const target of config.alerts) {
    const request = service.sample(target);
    let line;
    try {
      const r = await http(target.url, { ...request, timeoutMs });
      const ok = r.status >= 200 && r.status < 300;
      if (!ok) failed++;
      line = `${target.name} (${target.format}): ${ok ? 'sent' : 'failed'}, HTTP ${r.status}`;
    } catch (err) {
      failed++;
      line = `${target.name} (${target.format}): failed, ${redactor.text(err.message || String(err))}`;
    }
    out.write(`${line}\n`);
  }
  return failed;
}

module.exports = { alertsTest };
