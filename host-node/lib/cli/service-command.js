// `quotagate service install|uninstall`: a systemd user unit for this install. Re-installing the
// same binary and config is idempotent; a unit that points elsewhere, or another quotagate on the
// configured port, is a conflict that needs --force (and the old unit is backed up first).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { defaultConfigDir, loadConfig } = require('../config');
const { InputError } = require('../ledger-jsonl');
const { stamp } = require('./init-command');
const { GATEWAY_NODE_FLAGS, GATEWAY_ENV } = require('../node-flags');

function unitDir() {
  const base = process.env.XDG_CONFIG_HOME || path.join(require('node:os').homedir(), '.config');
  return path.join(base, 'systemd', 'user');
}

function unitText({ bin, config }) {
  return `# Written by quotagate service install. Remove with: quotagate service uninstall
[Unit]
Description=quotagate: quota-aware LLM gateway
After=network-online.target

[Service]
Type=simple
ExecStart=${process.execPath} ${GATEWAY_NODE_FLAGS.join(' ')} ${bin} serve --config ${config}
Restart=on-failure
RestartSec=3
Environment=NODE_ENV=production
${Object.entries(GATEWAY_ENV).map(([k, v]) => `Environment=${k}=${v}`).join('\n')}

[Install]
WantedBy=default.target
`;
}

function execStartOf(text) {
  const m = /^ExecStart=(.*)$/m.exec(text);
  return m ? m[1].trim() : null;
}

function portInUse(port, host) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function install({ config, force = false, out = process.stdout, bin = path.resolve(__dirname, '..', '..', 'bin', 'quotagate') }) {
  const configFile = path.resolve(config || path.join(defaultConfigDir(), 'config.yaml'));
  if (!fs.existsSync(configFile)) throw new InputError(`${configFile}: not found; run "quotagate init" first`);
  const cfg = loadConfig(configFile);
  const file = path.join(unitDir(), 'quotagate.service');
  const text = unitText({ bin, config: configFile });
  const conflicts = [];
  if (fs.existsSync(file)) {
    const current = fs.readFileSync(file, 'utf8');
    if (current === text) {
      out.write(`${file} is already installed for this binary and config; nothing to do\n`);
      return { file, changed: false };
    }
    conflicts.push(`${file} exists and runs: ${execStartOf(current) || '(no ExecStart)'}`);
  }
  if (await portInUse(cfg.server.port, cfg.server.host === '0.0.0.0' ? '127.0.0.1' : cfg.server.host)) {
    conflicts.push(`something is already listening on ${cfg.server.host}:${cfg.server.port} (another quotagate?)`);
  }
  if (conflicts.length && !force) {
    throw new InputError(`conflicting install: ${conflicts.join('; ')}. Nothing was changed; re-run with --force to replace it (the old unit is backed up)`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(file)) {
    const backupFile = `${file}.bak.${stamp()}`;
    fs.copyFileSync(file, backupFile, fs.constants.COPYFILE_EXCL);
    out.write(`backed up ${file} -> ${backupFile}\n`);
  }
  fs.writeFileSync(file, text);
  out.write(`wrote ${file}\nNow run:\n  systemctl --user daemon-reload\n  systemctl --user enable --now quotagate.service\n  journalctl --user -u quotagate -f\n`);
  return { file, changed: true };
}

function uninstall({ out = process.stdout }) {
  const file = path.join(unitDir(), 'quotagate.service');
  if (!fs.existsSync(file)) {
    out.write(`${file} is not installed; nothing to do\n`);
    return false;
  }
  fs.rmSync(file);
  out.write(`removed ${file}\nNow run:\n  systemctl --user disable --now quotagate.service\n  systemctl --user daemon-reload\n`);
  return true;
}

module.exports = { install, uninstall, unitDir, unitText, portInUse };
