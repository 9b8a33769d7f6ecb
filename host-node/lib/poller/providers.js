// Balance APIs, one reader per provider. Each returns { remaining, total?, used?, currency,
// endpoint } in the package's currency, or throws an Error whose message says what was wrong.
// Amounts may arrive as strings (DeepSeek) and balances may be negative (Moonshot cash).
'use strict';

class PollError extends Error {}

function num(v, what) {
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new PollError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

async function getJson(http, url, key, timeoutMs) {
  const res = await http(url, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, timeoutMs });
  if (res.status === 401 || res.status === 403) throw new PollError(`${url}: HTTP ${res.status} (the key was refused)`);
  if (res.status !== 200) throw new PollError(`${url}: HTTP ${res.status}`);
  try {
    return JSON.parse(res.text);
  } catch {
    throw new PollError(`${url}: malformed JSON`);
  }
}

// DeepSeek GET /user/balance: {is_available, balance_infos:[{currency, total_balance, granted_balance, topped_up_balance}]}
// (https://api-docs.deepseek.com/api/get-user-balance). total_balance already includes granted and
// topped-up money, so it is what remains. Currencies are never mixed: the row in the package's
// currency is used; without one, another row is converted only with a rate the user configured
// (quota_poll.exchange_rates, "CNY/USD": 0.14), else the poll fails naming the currencies.
async function deepseek({ http, baseUrl, key, pkg, timeoutMs, exchangeRates = {} }) {
  const url = `${baseUrl}/user/balance`;
  const j = await getJson(http, url, key, timeoutMs);
  // A currency is an ISO 4217 code: anything else in a row is not a balance we can place.
  const infos = Array.isArray(j.balance_infos) ? j.balance_infos.filter((b) => b && typeof b.currency === 'string' && /^[A-Za-z]{3}$/.test(b.currency)) : null;
  if (!infos || !infos.length) throw new PollError(`${url}: no balance_infos in the answer`);
  const want = String(pkg.currency || 'USD').toUpperCase();  // ISO 4217 codes, whatever their case
  const same = (b) => b.currency.toUpperCase() === want;
  const info = infos.find(same);
  const funded = infos.filter((b) => !same(b) && num(b.total_balance, 'balance_infos[].total_balance') > 0);
  if (info) {
    const remaining = num(info.total_balance, 'balance_infos[].total_balance');
    const warning = remaining === 0 && funded.length
      ? `the ${want} balance is 0 while ${funded.map((b) => `${b.currency} ${b.total_balance}`).join(', ')} is funded; the package counts ${want} only` : null;
    return { remaining, currency: want, endpoint: url, warning };
  }
  for (const b of infos) {
    const rate = Number(exchangeRates[`${b.currency.toUpperCase()}/${want}`]);
    if (Number.isFinite(rate) && rate > 0) {
      return { remaining: num(b.total_balance, 'balance_infos[].total_balance') * rate, currency: want, endpoint: url,
        warning: `converted from ${b.currency} ${b.total_balance} at the configured rate ${b.currency}/${want} ${rate}` };
    }
  }
  throw new PollError(`${url}: the balance is in ${infos.map((b) => b.currency).join(', ')}, the package in ${want}; ` +
    `set quota_poll.exchange_rates."${infos[0].currency.toUpperCase()}/${want}" to convert it (the last value is kept)`);
}

// OpenRouter GET /api/v1/key: {data:{limit, limit_remaining, usage, usage_daily, ...}}; with a
// management key, GET /api/v1/credits: {data:{total_credits, total_usage}} (account-wide).
async function openrouter({ http, baseUrl, key, managementKey, timeoutMs }) {
  if (managementKey) {
    const url = `${baseUrl}/api/v1/credits`;
    const d = (await getJson(http, url, managementKey, timeoutMs)).data || {};
    const total = num(d.total_credits, 'data.total_credits');
    const used = num(d.total_usage, 'data.total_usage');
    return { total, used, remaining: total - used, currency: 'USD', endpoint: url };
  }
  const url = `${baseUrl}/api/v1/key`;
  const d = (await getJson(http, url, key, timeoutMs)).data;
  if (!d || typeof d !== 'object') throw new PollError(`${url}: no data object in the answer`);
  const out = { currency: 'USD', endpoint: url, usage_daily: d.usage_daily ?? null, free_model_daily_requests: d.free_model_daily_requests ?? null };
  if (d.limit === null || d.limit === undefined) {
    // No spending limit on the key: usage is known, the balance is not (needs the management key).
    return { ...out, used: num(d.usage ?? 0, 'data.usage'), remaining: null };
  }
  const total = num(d.limit, 'data.limit');
  const remaining = d.limit_remaining !== undefined && d.limit_remaining !== null ? num(d.limit_remaining, 'data.limit_remaining') : total - num(d.usage, 'data.usage');
  return { ...out, total, remaining, used: total - remaining };
}

// Kilo: schema-tolerant over the endpoints known to have answered; {balance} in USD, or the
// credit-blocks shape in millionths of a dollar (totalBalance_mUsd, [{amount_mUsd, balance_mUsd}]).
const KILO_ENDPOINTS = ['/api/profile/balance', '/api/user/balance', '/api/balance', '/api/user/credits'];
function kiloShape(j) {
  const body = j && typeof j === 'object' && j.data && typeof j.data === 'object' ? j.data : j;
  if (!body || typeof body !== 'object') return null;
  if (body.balance !== undefined) return { remaining: num(body.balance, 'balance') };
  if (body.totalBalance_mUsd !== undefined) {
    const blocks = Array.isArray(body.creditBlocks) ? body.creditBlocks : Array.isArray(body.credit_blocks) ? body.credit_blocks : [];
    const total = blocks.length ? blocks.reduce((a, b) => a + num(b.amount_mUsd, 'creditBlocks[].amount_mUsd'), 0) / 1e6 : undefined;
    return { remaining: num(body.totalBalance_mUsd, 'totalBalance_mUsd') / 1e6, ...(total !== undefined ? { total } : {}) };
  }
  const blocks = Array.isArray(body) ? body : Array.isArray(body.creditBlocks) ? body.creditBlocks : null;
  if (blocks && blocks.length && blocks[0].amount_mUsd !== undefined) {
    const total = blocks.reduce((a, b) => a + num(b.amount_mUsd, 'amount_mUsd'), 0) / 1e6;
    const remaining = blocks.reduce((a, b) => a + num(b.balance_mUsd ?? b.amount_mUsd, 'balance_mUsd'), 0) / 1e6;
    return { total, remaining };
  }
  return null;
}

async function kilo({ http, baseUrl, key, endpoints = KILO_ENDPOINTS, timeoutMs }) {
  const tried = [];
  for (const ep of endpoints) {
    const url = `${baseUrl}${ep}`;
    let res;
    try {
      res = await http(url, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, timeoutMs });
    } catch (err) {
      tried.push(`${ep}: ${err.message}`);
      continue;
    }
    if (res.status === 401 || res.status === 403) throw new PollError(`${url}: HTTP ${res.status} (the key was refused)`);
    if (res.status !== 200) {
      tried.push(`${ep}: HTTP ${res.status}`);
      continue;
    }
    let j;
    try {
      j = JSON.parse(res.text);
    } catch {
      tried.push(`${ep}: malformed JSON`);
      continue;
    }
    const shape = kiloShape(j);
    if (shape) return { ...shape, currency: 'USD', endpoint: url };
    tried.push(`${ep}: unrecognised answer`);
  }
  throw new PollError(`no Kilo balance endpoint answered (${tried.join('; ')})`);
}

// Moonshot GET /v1/users/me/balance: {code, data:{available_balance, voucher_balance, cash_balance}, status}.
async function moonshot({ http, baseUrl, key, timeoutMs }) {
  const url = `${baseUrl}/v1/users/me/balance`;
  const j = await getJson(http, url, key, timeoutMs);
  if (!j.data || typeof j.data !== 'object') throw new PollError(`${url}: no data object in the answer`);
  return { remaining: num(j.data.available_balance, 'data.available_balance'), currency: 'CNY', endpoint: url,
    cash_balance: j.data.cash_balance !== undefined ? num(j.data.cash_balance, 'data.cash_balance') : null };
}

const READERS = {
  deepseek: { read: deepseek, baseUrl: 'https://api.deepseek.com', keyEnv: 'DEEPSEEK_API_KEY' },
  openrouter: { read: openrouter, baseUrl: 'https://openrouter.ai', keyEnv: 'OPENROUTER_API_KEY', managementKeyEnv: 'OPENROUTER_MANAGEMENT_KEY' },
  kilo: { read: kilo, baseUrl: 'https://kilocode.ai', keyEnv: 'KILO_API_KEY' },
  moonshot: { read: moonshot, baseUrl: 'https://api.moonshot.ai', keyEnv: 'MOONSHOT_API_KEY' },
};

module.exports = { READERS, PollError, kiloShape };
