// The plan at the gateway (issue 16): model groups (the member's model upstream, the group's name
// in the answer, streamed or not, x-quotagate-model naming the member, ordered failover), /v1/models
// listing groups, config errors naming the member, and a 429 that cools only the package serving
// its model.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { startTestGateway, postJson } = require('./helpers');
const { normalise } = require('../lib/config');

const DAILY = (provider, limit, models) => ({ provider_id: provider, package_type: 'daily', limit_per_day: limit, models });
const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

test('a model group: members in order, the member\'s model upstream, the group\'s name in every answer', async () => {
  const gw = await startTestGateway({
    fakes: { sub: { dialect: 'anthropic', models: ['claude-*'] }, cheap: { models: ['gpt-x'] } },
    catalog: { 'sub-daily': DAILY('sub', 1000, ['claude-*']), 'cheap-daily': DAILY('cheap', 1000, ['gpt-x']) },
    modelGroups: { 'team-sonnet': { members: ['sub/claude-sonnet-4-5', 'cheap/gpt-x'], strategy: 'ordered' } },
  });
  try {
    const url = `${gw.url}/v1/chat/completions`;
    const first = await postJson(url, chat('team-sonnet'));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-quotagate-provider'), 'sub');
    assert.equal(first.headers.get('x-quotagate-model'), 'claude-sonnet-4-5');
    assert.equal(gw.fakes.sub.lastRequest.body.model, 'claude-sonnet-4-5');
    assert.equal(first.json.model, 'team-sonnet');  // translated (Messages -> Chat)
    // The first member refuses: the same request goes to the second, whose own model goes upstream.
    gw.fakes.sub.mode = '429';
    const second = await postJson(url, chat('team-sonnet'));
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-quotagate-provider'), 'cheap');
    assert.equal(second.headers.get('x-quotagate-model'), 'gpt-x');
    assert.equal(gw.fakes.cheap.lastRequest.body.model, 'gpt-x');
    assert.equal(second.json.model, 'team-sonnet');  // passed through, the model renamed
    // Streamed and passed through: every chunk names the group.
    const streamed = await postJson(url, chat('team-sonnet', { stream: true }));
    assert.equal(streamed.status, 200, streamed.text);
    const models = streamed.text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).model);
    assert.ok(models.length > 0);
    assert.deepEqual([...new Set(models)], ['team-sonnet']);
    assert.ok(!streamed.text.includes('"gpt-x"'), 'no chunk names the member');
    // /v1/models lists the group beside auto.
    const list = await (await fetch(`${gw.url}/v1/models`)).json();
    assert.ok(list.data.some((m) => m.id === 'team-sonnet'));
    // The route explanation shows both members with their terms.
    const route = await postJson(`${gw.url}/api/route`, { model: 'team-sonnet' });
    assert.deepEqual(route.json.ranked.map((c) => [c.provider, c.model, c.terms.group_rank]), [['cheap', 'gpt-x', 1], ['sub', 'claude-sonnet-4-5', 0]]);
  } finally {
    await gw.stop();
  }
});

test('model_groups config errors name the group, the member and what was expected', () => {
  const base = { providers: [{ name: 'p', base_url: 'http://127.0.0.1:1/v1', api_key: 'sk-test-aaaa', models: ['m'] }] };
  assert.throws(() => normalise({ ...base, model_groups: { g: { members: ['q/m'] } } }, 'c.yaml'),
    /c\.yaml: model_groups\.g\.members\[0\]: expected a configured provider \(p\) before the slash/);
  assert.throws(() => normalise({ ...base, model_groups: { g: { members: ['p'] } } }, 'c.yaml'), /model_groups\.g\.members\[0\]: expected "provider\/model"/);
  assert.throws(() => normalise({ ...base, model_groups: { g: { members: ['p/m'], strategy: 'fastest' } } }, 'c.yaml'),
    /model_groups\.g\.strategy: expected use_or_lose or ordered/);
  assert.throws(() => normalise({ ...base, model_groups: { auto: { members: ['p/m'] } } }, 'c.yaml'), /model_groups\.auto/);
  const ok = normalise({ ...base, model_groups: { g: { members: ['p/m'] } } }, 'c.yaml');
  assert.deepEqual(ok.routing.engine.model_groups, { g: { members: ['p/m'], strategy: 'use_or_lose' } });
});

test('a 429 for one model cools only the package serving it: the provider\'s other daily quota stays in use', async () => {
  const gw = await startTestGateway({
    fakes: { gem: { models: ['gem-pro', 'gem-flash'] }, other: { models: ['gem-pro', 'gem-flash'] } },
    catalog: { 'gem-pro-daily': DAILY('gem', 100, ['gem-pro']), 'gem-flash-daily': DAILY('gem', 250, ['gem-flash']) },
  });
  try {
    const url = `${gw.url}/v1/chat/completions`;
    gw.fakes.gem.mode = '429';
    const pro = await postJson(url, chat('gem-pro'));
    assert.equal(pro.status, 200, pro.text);
    assert.equal(pro.headers.get('x-quotagate-provider'), 'other');  // failed over
    gw.fakes.gem.mode = 'ok';
    const flash = await postJson(url, chat('gem-flash'));
    assert.equal(flash.headers.get('x-quotagate-provider'), 'gem', 'the flash quota is not cooled by the pro 429');
    const again = await postJson(url, chat('gem-pro'));
    assert.equal(again.headers.get('x-quotagate-provider'), 'other', 'the pro quota is still cooling');
    const state = await (await fetch(`${gw.url}/api/quotas`)).json();
    assert.equal(state.cooldowns['gem gem-pro-daily'].scope, 'package');
  } finally {
    await gw.stop();
  }
});
