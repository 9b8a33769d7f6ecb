// Issue 12 cases 6-8: files the operator edits. One parser decides for every reader (a BOM is
// fine everywhere; a NUL or 100k-deep nesting is rejected everywhere with the file named), nothing
// in the watcher can throw, a symlinked catalog is written through, and an operator's edit that
// lands while quotagate writes the file is never lost, whether saved in place or by rename.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { loadCore } = require('../lib/core');
const { CatalogStore } = require('../lib/catalog-store');
const { catalogValidator } = require('../lib/engine-session');
const { tmpDir, startTestGateway, postJson, chat } = require('./helpers');

const BIN = path.join(__dirname, '..', 'bin', 'quotagate');
const PKG = { provider_id: 'deepseek', package_type: 'credits', total_credits: 10, used_credits: 0, currency: 'USD', models: ['*'] };
const doc = (packages) => ({ schema_version: 1, packages });

async function storeOn(file, hooks = {}) {
  const core = await loadCore();
  const engine = new core.Engine();
  const logs = [];
  const log = { info: (o, m) => logs.push(['info', m, o]), warn: (o, m) => logs.push(['warn', m, o]), error: (o, m) => logs.push(['error', m, o]) };
  const store = new CatalogStore({ file, validate: catalogValidator(core, file), apply: (t) => engine.loadCatalog(t, file), log, hooks });
  return { store, engine, logs, ids: () => JSON.parse(engine.quotasJson(Date.now())).packages.map((p) => p.package_id) };
}

test('a BOM, a trailing NUL and 100k-deep nesting: one verdict for the gateway, its watcher and `quotagate status`', async () => {
  const gw = await startTestGateway({ fakes: { a: {} }, catalog: { a: { provider_id: 'a', package_type: 'daily', limit_per_day: 100, models: ['*'] } } });
  const file = path.join(gw.dir, 'metadata', 'packages', 'catalog.v1.json');
  const good = JSON.stringify(doc({ a: { provider_id: 'a', package_type: 'daily', limit_per_day: 100, models: ['*'] }, b: { provider_id: 'a', package_type: 'daily', limit_per_day: 7, models: ['*'] } }), null, 2);
  const status = () => spawnSync(process.execPath, [BIN, 'status', '--catalog', file, '--json'], { encoding: 'utf8' });
  try {
    fs.writeFileSync(file, `\ufeff${good}`);
    gw.store.reloadIfChanged();
    assert.equal(gw.store.error, null, 'a BOM (Notepad) is accepted');
    assert.ok((await (await fetch(`${gw.url}/api/quotas`)).json()).packages.some((p) => p.package_id === 'b'));
    assert.equal(status().status, 0, 'and `status` agrees');
    const bad = [
      [`${good}\u0000`, /invalid JSON \(a NUL byte at offset/],
      [good.replace('"schema_version": 1', `"x": ${'['.repeat(100000)}${']'.repeat(100000)}, "schema_version": 1`), /nested deeper than 64 levels/],
    ];
    for (const [text, why] of bad) {
      const before = gw.logs.lines.length;
      fs.writeFileSync(file, text);
      gw.store.reloadIfChanged();
      gw.store.reloadIfChanged();
      assert.match(gw.store.error, why);
      assert.ok(gw.store.error.startsWith(file), 'the error names the file');
      const lines = gw.logs.lines.slice(before).filter((l) => /catalog edit rejected/.test(l));
      assert.equal(lines.length, 1, 'one log line per bad edit');
      assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('m'))).status, 200, 'the gateway still serves');
      assert.ok((await (await fetch(`${gw.url}/api/quotas`)).json()).packages.some((p) => p.package_id === 'b'), 'the last good catalog stays');
      const s = status();
      assert.equal(s.status, 2, s.stderr);
      assert.match(s.stderr, why);
    }
  } finally {
    await gw.stop();
  }
  // A restart on a BOM catalog loads it.
  const dir = tmpDir();
  const file2 = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(file2, `\ufeff${good}`);
  const { store, ids } = await storeOn(file2);
  assert.equal(store.load(), null);
  assert.deepEqual(ids(), ['a', 'b']);
});

test('a symlinked catalog is written through: the link stays and its target is updated', async () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'dotfiles'));
  const target = path.join(dir, 'dotfiles', 'catalog.v1.json');
  fs.writeFileSync(target, JSON.stringify(doc({ ds: PKG }), null, 2));
  const link = path.join(dir, 'catalog.v1.json');
  fs.symlinkSync(target, link);
  const { store } = await storeOn(link);
  assert.equal(store.load(), null);
  for (const used of [1, 2, 3]) assert.equal(await store.update({ ds: { used_credits: used } }), null);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'still a symlink');
  assert.equal(JSON.parse(fs.readFileSync(target, 'utf8')).packages.ds.used_credits, 3);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['catalog.v1.json', 'dotfiles']);
});

test('an edit that lands while the poller writes is never lost (rename-save, in-place save, after the check)', async () => {
  const cases = {
    'rename-save before the check': (target) => {
      const tmp = `${target}.editor~`;
      fs.writeFileSync(tmp, JSON.stringify(doc({ ds: { ...PKG, notes: 'operator' }, extra: PKG }), null, 2));
      fs.renameSync(tmp, target);
    },
    'in-place save before the check': (target) => fs.writeFileSync(target, JSON.stringify(doc({ ds: { ...PKG, notes: 'operator' }, extra: PKG }), null, 2)),
  };
  for (const [label, edit] of Object.entries(cases)) {
    const dir = tmpDir();
    const file = path.join(dir, 'catalog.v1.json');
    fs.writeFileSync(file, JSON.stringify(doc({ ds: PKG }), null, 2));
    let once = true;
    const { store, ids } = await storeOn(file, { beforeRename: (tmp, target) => { if (once) { once = false; edit(target); } } });
    assert.equal(store.load(), null);
    assert.equal(await store.update({ ds: { used_credits: 4 } }), null, label);
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(onDisk.packages.ds.notes, 'operator', `${label}: the operator's field`);
    assert.ok(onDisk.packages.extra, `${label}: the operator's new package`);
    assert.equal(onDisk.packages.ds.used_credits, 4, `${label}: the poll value`);
    assert.deepEqual(ids().sort(), ['ds', 'extra'], `${label}: in force`);
  }
  // An in-place save into the file after the check and before the rename lands in the inode that
  // the rename replaces: it is found under the .replaced link and merged back in.
  const dir = tmpDir();
  const file = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(file, JSON.stringify(doc({ ds: PKG }), null, 2));
  let once = true;
  const { store } = await storeOn(file, { afterCheck: (target) => {
    if (!once) return;
    once = false;
    const fd = fs.openSync(target, 'r+');
    const text = JSON.stringify(doc({ ds: { ...PKG, notes: 'late' } }), null, 2);
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, text, 0);
    fs.closeSync(fd);
  } });
  assert.equal(store.load(), null);
  assert.equal(await store.update({ ds: { used_credits: 6 } }), null);
  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(onDisk.packages.ds.notes, 'late', 'the late in-place edit is back in the file');
  assert.deepEqual(fs.readdirSync(dir), ['catalog.v1.json'], 'no .replaced link left behind');
});

// Issue 15 case 0: a real faigate catalog says "schema_version": "1.1". It loads in status and
// serve, and a write keeps the version that was read.
test('a faigate "1.1" catalog envelope loads everywhere and is written back as read', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'catalog.v1.json');
  fs.writeFileSync(file, JSON.stringify({ schema_version: '1.1', generated_at: '2026-11-28T00:00:00Z', packages: { ds: PKG } }, null, 2));
  const s = spawnSync(process.execPath, [BIN, 'status', '--catalog', file, '--json'], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const { store } = await storeOn(file);
  assert.equal(store.load(), null);
  assert.equal(await store.update({ ds: { used_credits: 2 } }), null);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).schema_version, '1.1');
  fs.writeFileSync(file, JSON.stringify({ schema_version: '2.0', packages: {} }));
  const bad = spawnSync(process.execPath, [BIN, 'status', '--catalog', file], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /\$\.schema_version: major version 2 is not one this quotagate reads \(it reads 1\.x\)/);
});
