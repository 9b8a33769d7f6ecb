// Demo mode as a newcomer meets it: `quotagate serve` with no keys prints the dashboard URL and a
// curl example, answers through simulated providers, and labels itself as a demo.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { tmpDir } = require('./helpers');

test('serve with no provider keys starts demo mode and quotas move', async () => {
  const dir = tmpDir('qg-demo-');
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'quotagate'), 'serve', '--port', '0', '--data-dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: dir } });
  try {
    let out = '';
    const base = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /quotas:\s+(http:\/\/\S+)\/api\/quotas/.exec(out);
        if (m && out.includes('data:')) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.match(out, /DEMO MODE/);
    assert.match(out, /dashboard: http:\/\/\S+\/dashboard\/quotas/);
    assert.match(out, /curl -s http:\/\/\S+\/v1\/chat\/completions/);
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 200);
    const provider = res.headers.get('x-quotagate-provider');
    const pkg = res.headers.get('x-quotagate-package');
    assert.ok(['gemini', 'gemini-cli'].includes(provider), provider);
    const q = await (await fetch(`${base}/api/quotas`)).json();
    assert.equal(q.demo, true);
    assert.equal(q.count, 11);
    assert.equal(q.packages.find((p) => p.package_id === pkg).used, 1);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
