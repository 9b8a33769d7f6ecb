// Install safety: init never clobbers (and --force backs up byte-identical copies), service install
// is idempotent for the same install and refuses a conflicting one, doctor reports a broken config,
// and the npm tarball installs into a fresh prefix and serves a demo with no toolchain.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { tmpDir } = require('./helpers');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'host-node', 'bin', 'quotagate');

function qg(args, home, extraEnv = {}) {
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'), ...extraEnv };
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('init: fresh, refused the second time, --force with byte-identical backups', () => {
  const home = tmpDir('qg-home-');
  const dir = path.join(home, '.config', 'quotagate');
  let r = qg(['init'], home);
  assert.equal(r.code, 0, r.err);
  for (const f of ['config.yaml', '.env', 'metadata/packages/catalog.v1.json']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  assert.equal(fs.statSync(path.join(dir, '.env')).mode & 0o777, 0o600);
  fs.writeFileSync(path.join(dir, 'config.yaml'), 'server:\n  port: 9999\n# my edits\n');
  const mine = fs.readFileSync(path.join(dir, 'config.yaml'));
  r = qg(['init'], home);
  assert.equal(r.code, 2);
  assert.match(r.err, /already has config\.yaml, \.env, metadata\/packages\/catalog\.v1\.json; nothing was changed/);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'config.yaml')), mine, 'untouched without --force');
  r = qg(['init', '--force'], home);
  assert.equal(r.code, 0, r.err);
  const backups = fs.readdirSync(dir).filter((f) => /^config\.yaml\.bak\.\d{14}$/.test(f));
  assert.equal(backups.length, 1);
  assert.deepEqual(fs.readFileSync(path.join(dir, backups[0])), mine, 'the backup is byte-identical');
  assert.ok(fs.readdirSync(dir).some((f) => /^\.env\.bak\.\d{14}$/.test(f)));
});

test('service install: idempotent for the same install, refuses a conflicting unit, backs up with --force; uninstall', () => {
  const home = tmpDir('qg-home-');
  assert.equal(qg(['init'], home).code, 0);
  const unit = path.join(home, '.config', 'systemd', 'user', 'quotagate.service');
  let r = qg(['service', 'install'], home);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /systemctl --user enable --now quotagate\.service/);
  const text = fs.readFileSync(unit, 'utf8');
  assert.match(text, new RegExp(`ExecStart=.*${BIN.replace(/[/.]/g, '\\$&')} serve --config .*config\\.yaml`));
  r = qg(['service', 'install'], home);
  assert.equal(r.code, 0);
  assert.match(r.out, /already installed for this binary and config; nothing to do/);
  assert.equal(fs.readdirSync(path.dirname(unit)).length, 1, 'no backup for a re-run');

  fs.writeFileSync(unit, text.replace(/ExecStart=.*/, 'ExecStart=/opt/other/quotagate serve --config /etc/other.yaml'));
  const other = fs.readFileSync(unit);
  r = qg(['service', 'install'], home);
  assert.equal(r.code, 2);
  assert.match(r.err, /conflicting install: .*runs: \/opt\/other\/quotagate serve --config \/etc\/other\.yaml/);
  assert.deepEqual(fs.readFileSync(unit), other, 'unchanged without --force');
  r = qg(['service', 'install', '--force'], home);
  assert.equal(r.code, 0, r.err);
  const backup = fs.readdirSync(path.dirname(unit)).find((f) => f.startsWith('quotagate.service.bak.'));
  assert.deepEqual(fs.readFileSync(path.join(path.dirname(unit), backup)), other);
  assert.equal(qg(['service', 'uninstall'], home).code, 0);
  assert.ok(!fs.existsSync(unit));
});

test('service install refuses when something already listens on the configured port', async () => {
  const home = tmpDir('qg-home-');
  assert.equal(qg(['init'], home).code, 0);
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const cfg = path.join(home, '.config', 'quotagate', 'config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('port: 8090', `port: ${srv.address().port}`));
  const r = await new Promise((resolve) => {
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
    const child = spawn(process.execPath, [BIN, 'service', 'install'], { env });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => resolve({ code, err }));
  });
  srv.close();
  assert.equal(r.code, 2);
  assert.match(r.err, /something is already listening on 127\.0\.0\.1:\d+/);
});

test('doctor: a broken config is named with its fix; keys are never printed', () => {
  const home = tmpDir('qg-home-');
  assert.equal(qg(['init'], home).code, 0);
  const cfg = path.join(home, '.config', 'quotagate', 'config.yaml');
  let r = qg(['doctor'], home, { DEEPSEEK_API_KEY: 'sk-doctor-secret-1', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '' });
  assert.equal(r.code, 1, 'the template has providers without keys');
  assert.match(r.out, /ok {4}config .* is valid/);
  assert.match(r.out, /ok {4}provider deepseek: key is set/);
  assert.match(r.out, /FAIL  provider claude-pro: no api_key\n {6}fix: /);
  assert.match(r.out, /ok {4}catalog .*: 11 packages/);
  assert.match(r.out, /ok {4}wasm engine loads/);
  assert.doesNotMatch(r.out + r.err, /sk-doctor-secret-1/);
  fs.writeFileSync(cfg, 'server:\n  port: [oops\n');
  r = qg(['doctor'], home);
  assert.equal(r.code, 1);
  assert.match(r.out, /FAIL  .*config\.yaml:\d+:\d+: invalid YAML/);
  assert.match(r.out, /fix: edit the key named above/);
});

test('npm pack installs into a fresh prefix and serves a demo without any toolchain', { timeout: 120000 }, async () => {
  const work = tmpDir('qg-pack-');
  const pack = spawnSync('npm', ['pack', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const tgz = fs.readdirSync(work).find((f) => f.endsWith('.tgz'));
  const listing = spawnSync('tar', ['tzf', path.join(work, tgz)], { encoding: 'utf8' }).stdout;
  for (const f of ['package/wasm/dist/quotagate.wasm', 'package/wasm/web-dist/quotagate.wasm', 'package/web/quotas.html', 'package/host-node/bin/quotagate',
    'package/docs/examples/config.yaml', 'package/docs/examples/metadata/packages/catalog.v1.json']) assert.ok(listing.includes(f), f);
  assert.ok(!/package\/(tests|core|build)\//.test(listing), 'no sources or build trees in the package');
  const prefix = path.join(work, 'prefix');
  const inst = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(work, tgz)], { encoding: 'utf8' });
  assert.equal(inst.status, 0, inst.stderr);
  const bin = path.join(prefix, 'bin', 'quotagate');
  const home = tmpDir('qg-home-');
  // No emscripten, cmake or compiler on the PATH, and run from elsewhere than the checkout.
  const env = { HOME: home, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, XDG_CONFIG_HOME: path.join(home, '.config') };
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8', env, cwd: home });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /serve/);
  const child = spawn(bin, ['serve', '--demo', '--port', '0', '--data-dir', path.join(home, 'demo')], { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const base = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /quotas:\s+(http:\/\/\S+)\/api\/quotas/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'auto', messages: [] }) });
    assert.equal(res.status, 200);
    const q = await (await fetch(`${base}/api/quotas`)).json();
    assert.equal(q.demo, true);
    assert.equal(q.count, 11);
    const page = await fetch(`${base}/dashboard/wasm/quotagate.wasm`);
    assert.equal(page.headers.get('content-type'), 'application/wasm');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
