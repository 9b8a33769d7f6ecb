// `quotagate init`: creates the config folder (config.yaml, a .env template with mode 600, and the
// catalog template). It never overwrites: without --force it stops and lists what exists; with
// --force it first writes a timestamped backup (NAME.bak.YYYYMMDDHHMMSS) of every file it replaces.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { defaultConfigDir } = require('../config');
const { InputError } = require('../ledger-jsonl');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function stamp(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function backup(file, when) {
  const target = `${file}.bak.${when}`;
  fs.copyFileSync(file, target, fs.constants.COPYFILE_EXCL);
  return target;
}

const ENV_TEMPLATE = `# Provider keys for quotagate (read by config.yaml's \${VAR} references). Keep this file private.
# DEEPSEEK_API_KEY=
# ANTHROPIC_API_KEY=
# GEMINI_API_KEY=
# OPENROUTER_API_KEY=
# KILO_API_KEY=
# MOONSHOT_API_KEY=
# QUOTAGATE_ADMIN_TOKEN=
`;

function files(dir) {
  const example = fs.readFileSync(path.join(ROOT, 'docs', 'examples', 'config.yaml'), 'utf8')
    .replace('metadata_dir: ~/.config/quotagate/metadata', `metadata_dir: ${path.join(dir, 'metadata')}`);
  return [
    { name: 'config.yaml', content: example, mode: 0o644 },
    { name: '.env', content: ENV_TEMPLATE, mode: 0o600 },
    { name: path.join('metadata', 'packages', 'catalog.v1.json'), content: fs.readFileSync(path.join(ROOT, 'docs', 'examples', 'metadata', 'packages', 'catalog.v1.json'), 'utf8'), mode: 0o644 },
  ];
}

function init({ dir, force = false, out = process.stdout }) {
  const target = path.resolve(dir || defaultConfigDir());
  const plan = files(target).map((f) => ({ ...f, file: path.join(target, f.name) }));
  const existing = plan.filter((f) => fs.existsSync(f.file));
  if (existing.length && !force) {
    throw new InputError(`${target} already has ${existing.map((f) => f.name).join(', ')}; nothing was changed (re-run with --force to replace them after a backup)`);
  }
  const when = stamp();
  for (const f of plan) {
    fs.mkdirSync(path.dirname(f.file), { recursive: true });
    if (fs.existsSync(f.file)) out.write(`backed up ${f.file} -> ${backup(f.file, when)}\n`);
    fs.writeFileSync(f.file, f.content, { mode: f.mode });
    fs.chmodSync(f.file, f.mode);
    out.write(`wrote ${f.file}\n`);
  }
  out.write(`\nNext: put your keys in ${path.join(target, '.env')}, list your packages in ${path.join(target, 'metadata', 'packages', 'catalog.v1.json')},\nthen run: quotagate doctor --config ${path.join(target, 'config.yaml')} && quotagate serve --config ${path.join(target, 'config.yaml')}\n`);
  return target;
}

module.exports = { init, stamp };
