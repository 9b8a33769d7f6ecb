// Gateway configuration: config.yaml (parsed with `yaml`), ${ENV} interpolation, an optional .env
// beside it, defaults and validation. Errors name the file, the key and what was expected.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
const { CREDENTIAL_HEADER } = require('./redact');

class ConfigError extends Error {}

// The wire format each backend speaks: Chat Completions, Messages, the Responses API (wire/index.js).
const BACKENDS = ['openai-compat', 'anthropic', 'openai-responses'];

function defaultConfigDir() {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'quotagate');
}

function defaultDataDir() {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'quotagate');
}

function expandHome(p) {
  return typeof p === 'string' && p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

// Replaces ${NAME} (and ${NAME:-default}) in every string of the parsed document.
function interpolate(value, env) {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name, fallback) =>
      env[name] !== undefined && env[name] !== '' ? env[name] : (fallback ?? ''));
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env);
    return out;
  }
  return value;
}

// Keys whose values are secrets: an error about them names the key and the value's shape, never
// the value (a `client_keys: ${QG_KEY}` typo must not print the key).
const { alertsOf } = require('./alerts/alert-config');
const { telemetryOf } = require('./telemetry/telemetry-config');

const SECRET_KEY = /(^|[._\]])(api_key|management_key|admin_token|client_keys|password|url|otlp_endpoint|headers)(\[\d+\])?($|\.)/;

function describe(got) {
  if (got === undefined) return 'nothing';
  if (typeof got === 'string') return `a string of ${got.length} characters (not shown: it may be a secret)`;
  if (typeof got === 'number') return 'a number (not shown: it may be a secret)';
  if (Array.isArray(got)) return `a list of ${got.length} (not shown: it may hold secrets)`;
  return `${got === null ? 'null' : typeof got} (not shown: it may be a secret)`;
}

// A value is shown in an error only when it cannot be a secret: numbers, booleans and null, and
// short strings at keys that hold no secret and are not containers (a `${VAR}` where a mapping
// or list belongs may hold anything).
function shownValue(key, expected, got) {
  if (got === undefined) return 'nothing';
  // An all-digit key left unquoted in YAML is a number: at a secret's key nothing is shown.
  if (SECRET_KEY.test(key)) return describe(got);
  if (typeof got === 'number' || typeof got === 'boolean' || got === null) return JSON.stringify(got);
  const container = /^a (mapping|list)/.test(expected);
  if (typeof got === 'string' && !container && !SECRET_KEY.test(key) && got.length <= 16) return JSON.stringify(got);
  return describe(got);
}

function checker(file) {
  const fail = (key, expected, got) => {
    throw new ConfigError(`${file}: ${key}: expected ${expected}, got ${shownValue(key, expected, got)}`);
  };
  return {
    fail,
    object(v, key) {
      if (v === undefined || v === null) return {};
      if (typeof v !== 'object' || Array.isArray(v)) fail(key, 'a mapping', v);
      return v;
    },
    keys(obj, key, allowed) {
      for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`${key ? `${key}.` : ''}${k}`, `one of the known keys (${allowed.join(', ')})`, k);
    },
    string(v, key, { required = false, fallback } = {}) {
      if (v === undefined || v === null || v === '') {
        if (required) fail(key, 'a non-empty string', v);
        return fallback;
      }
      if (typeof v !== 'string') fail(key, 'a string', v);
      return v;
    },
    number(v, key, { fallback, min = -Infinity, max = Infinity, integer = false } = {}) {
      if (v === undefined || v === null) return fallback;
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
        fail(key, `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`, v);
      return n;
    },
    bool(v, key, fallback) {
      if (v === undefined || v === null) return fallback;
      if (typeof v !== 'boolean') fail(key, 'true or false', v);
      return v;
    },
    stringList(v, key) {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) fail(key, 'a list of non-empty strings', v);
      return v;
    },
  };
}

function parseSize(v, key, c) {
  if (v === undefined || v === null) return 10 * 1024 * 1024;
  if (typeof v === 'number') return c.number(v, key, { min: 1024 });
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(String(v).trim());
  if (!m) c.fail(key, 'a size such as 10mb', v);
  const unit = (m[2] || 'b').toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'mb' ? 1048576 : unit === 'kb' ? 1024 : 1));
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

// Headers an auth: client provider receives from the client by default, beside its credential:
// what Codex CLI (ChatGPT login) and Claude Code (OAuth) send that their backends need.
const CLIENT_FORWARD_DEFAULT = ['chatgpt-account-id', 'openai-organization', 'openai-project', 'openai-beta', 'originator', 'session_id'];
// Never forwarded from a client: hop-by-hop and framing headers, and the gateway's own key.
const FORWARD_NEVER = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'x-quotagate-key', 'cookie', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization']);
const ACCOUNT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

// providers[].accounts. auth: key: [{name, api_key | headers}], one credential each; auth: client:
// [{name, fingerprint}], names for callers' credentials (`quotagate accounts fingerprint`).
// model_groups: {NAME: {members: ["provider/model", ...], strategy: use_or_lose | ordered}}: a name
// clients ask for as their model, standing for models on configured providers (docs/config.md).
function modelGroupsOf(c, raw, providers) {
  const groups = c.object(raw, 'model_groups');
  const names = new Set(providers.map((p) => p.name));
  const out = {};
  for (const [name, g] of Object.entries(groups)) {
    const key = `model_groups.${name}`;
    if (!name || name.length > 128 || name === 'auto' || /[\u0000-\u001f]/.test(name)) c.fail(key, 'a name of 1..128 printable characters other than auto', name);
    c.object(g, key);
    c.keys(g, key, ['members', 'strategy']);
    const members = c.stringList(g.members, `${key}.members`);
    if (!members.length || members.length > 64) c.fail(`${key}.members`, '1..64 members "provider/model"', members.length);
    members.forEach((m, i) => {
      const slash = m.indexOf('/');
      if (slash <= 0 || slash === m.length - 1 || m.includes('*')) c.fail(`${key}.members[${i}]`, '"provider/model": a provider name, a slash, a concrete model name', m);
      if (!names.has(m.slice(0, slash))) c.fail(`${key}.members[${i}]`, `a configured provider (${[...names].join(', ') || 'none'}) before the slash`, m.slice(0, slash));
    });
    const strategy = c.string(g.strategy, `${key}.strategy`, { fallback: 'use_or_lose' });
    if (!['use_or_lose', 'ordered'].includes(strategy)) c.fail(`${key}.strategy`, 'use_or_lose or ordered', strategy);
    out[name] = { members, strategy };
  }
  return out;
}

function accountsOf(c, raw, key, auth) {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) c.fail(`${key}.accounts`, 'a list of accounts', raw);
  const seen = new Set();
  const fingerprints = new Set();
  return raw.map((a, i) => {
    const k = `${key}.accounts[${i}]`;
    c.object(a, k);
    c.keys(a, k, auth === 'client' ? ['name', 'fingerprint'] : ['name', 'api_key', 'headers']);
    const name = c.string(a.name, `${k}.name`, { required: true });
    if (!ACCOUNT_NAME.test(name)) c.fail(`${k}.name`, 'letters, digits and . _ - (at most 64)', name);
    if (seen.has(name)) c.fail(`${k}.name`, 'a name unique within the provider', name);
    seen.add(name);
    if (auth === 'client') {
      const fp = c.string(a.fingerprint, `${k}.fingerprint`, { required: true });
      if (!/^[0-9a-f]{12}$/.test(fp)) c.fail(`${k}.fingerprint`, '12 lowercase hex digits (from `quotagate accounts fingerprint`)', fp);
      if (fingerprints.has(fp)) c.fail(`${k}.fingerprint`, 'a fingerprint named once (it is listed twice)', fp);
      fingerprints.add(fp);
      return { name, fingerprint: fp };
    }
    const headers = c.object(a.headers, `${k}.headers`);
    for (const [h, v] of Object.entries(headers)) if (typeof v !== 'string') c.fail(`${k}.headers.${h}`, 'a string', v);
    const apiKey = c.string(a.api_key, `${k}.api_key`, { fallback: '' });
    if (!apiKey && !Object.keys(headers).length) c.fail(`${k}`, 'an api_key or headers (the account\'s credential)', undefined);
    return { name, api_key: apiKey, headers: Object.fromEntries(Object.entries(headers).map(([h, v]) => [h, String(v)])) };
  });
}

// Validates a parsed (already interpolated) config object; returns the normalised config.
function normalise(raw, file, env = process.env) {
  const c = checker(file);
  const doc = c.object(raw, '(top level)');
  c.keys(doc, '', ['server', 'providers', 'routing', 'model_groups', 'metadata_dir', 'ledger', 'quota_poll', 'alerts', 'telemetry', 'demo', 'log_level']);

  const s = c.object(doc.server, 'server');
  c.keys(s, 'server', ['host', 'port', 'admin_token', 'client_keys', 'body_limit', 'headers_timeout_ms', 'request_timeout_ms',
    'allowed_hosts', 'allowed_origins', 'max_sse_event_bytes']);
  const server = {
    host: c.string(s.host, 'server.host', { fallback: '127.0.0.1' }),
    port: c.number(s.port, 'server.port', { fallback: 8090, min: 0, max: 65535, integer: true }),
    admin_token: c.string(s.admin_token, 'server.admin_token', { fallback: '' }),
    client_keys: c.stringList(s.client_keys, 'server.client_keys'),
    body_limit: parseSize(s.body_limit, 'server.body_limit', c),
    // Slow clients (slowloris): the headers must arrive within headers_timeout_ms and the whole
    // request body within request_timeout_ms. Responses (long streams) are not limited by these.
    headers_timeout_ms: c.number(s.headers_timeout_ms, 'server.headers_timeout_ms', { fallback: 15000, min: 100 }),
    request_timeout_ms: c.number(s.request_timeout_ms, 'server.request_timeout_ms', { fallback: 30000, min: 100 }),
    // Host names (DNS-rebinding guard) and browser origins (cross-site guard) accepted besides the
    // bound address and the loopback names; see gateway-guard.js.
    allowed_hosts: c.stringList(s.allowed_hosts, 'server.allowed_hosts').map((h) => h.toLowerCase()),
    allowed_origins: c.stringList(s.allowed_origins, 'server.allowed_origins'),
    // The largest single SSE event accepted from an upstream (a hostile one is cut off).
    max_sse_event_bytes: s.max_sse_event_bytes === undefined ? 1024 * 1024 : parseSize(s.max_sse_event_bytes, 'server.max_sse_event_bytes', c),
  };
  if (!isLoopback(server.host) && !server.admin_token)
    c.fail('server.admin_token', `a token when binding off loopback (server.host is ${server.host})`, server.admin_token);
  if (!isLoopback(server.host) && server.admin_token.length < 16)
    c.fail('server.admin_token', `at least 16 characters when binding off loopback (server.host is ${server.host})`, server.admin_token);

  if (doc.providers !== undefined && doc.providers !== null && !Array.isArray(doc.providers)) c.fail('providers', 'a list of providers', doc.providers);
  const names = new Set();
  const providers = (doc.providers || []).map((p, i) => {
    const key = `providers[${i}]`;
    c.object(p, key);
    c.keys(p, key, ['name', 'backend', 'base_url', 'api_key', 'models', 'price', 'timeout_ms', 'headers', 'quirks', 'auth', 'accounts',
      'overage', 'forward_headers']);
    const quirks = c.object(p.quirks, `${key}.quirks`);
    c.keys(quirks, `${key}.quirks`, ['stream_usage', 'drop_fields']);
    const name = c.string(p.name, `${key}.name`, { required: true });
    if (names.has(name)) c.fail(`${key}.name`, 'a unique provider name', name);
    names.add(name);
    const backend = c.string(p.backend, `${key}.backend`, { fallback: 'openai-compat' });
    if (!BACKENDS.includes(backend)) c.fail(`${key}.backend`, `one of ${BACKENDS.join(' | ')}`, backend);
    const baseUrl = c.string(p.base_url, `${key}.base_url`, { required: true });
    let parsed;
    try {
      parsed = new URL(baseUrl);
    } catch {
      c.fail(`${key}.base_url`, 'an http(s) URL', baseUrl);
    }
    if (!['http:', 'https:'].includes(parsed.protocol)) c.fail(`${key}.base_url`, 'an http(s) URL', baseUrl);
    const price = c.object(p.price, `${key}.price`);
    c.keys(price, `${key}.price`, ['input_per_1m', 'output_per_1m', 'cached_input_per_1m', 'cache_write_per_1m']);
    const headers = c.object(p.headers, `${key}.headers`);
    const auth = c.string(p.auth, `${key}.auth`, { fallback: 'key' });
    if (!['key', 'client'].includes(auth)) c.fail(`${key}.auth`, 'key or client', auth);
    const overage = c.string(p.overage, `${key}.overage`, { fallback: 'allow' });
    if (!['allow', 'avoid'].includes(overage)) c.fail(`${key}.overage`, 'allow or avoid', overage);
    if (auth === 'client' && p.api_key) c.fail(`${key}.api_key`, 'nothing with auth: client (each caller\'s own credential is forwarded)', p.api_key);
    const credentialHeader = Object.keys(headers).find((h) => CREDENTIAL_HEADER.test(h));
    if (auth === 'client' && credentialHeader) c.fail(`${key}.headers.${credentialHeader}`, 'no credential header with auth: client (each caller\'s own is forwarded)', headers[credentialHeader]);
    for (const [h, v] of Object.entries(headers)) if (typeof v !== 'string' && typeof v !== 'number') c.fail(`${key}.headers.${h}`, 'a string', v);
    const forward = c.stringList(p.forward_headers, `${key}.forward_headers`).map((h) => h.toLowerCase());
    for (const h of forward) {
      if (!/^[a-z0-9-]{1,64}$/.test(h) || FORWARD_NEVER.has(h) || CREDENTIAL_HEADER.test(h)) {
        c.fail(`${key}.forward_headers`, `header names other than credentials (the caller's own is forwarded by itself) and ${[...FORWARD_NEVER].join(', ')}`, h);
      }
    }
    return {
      name,
      backend,
      base_url: baseUrl.replace(/\/+$/, ''),
      api_key: c.string(p.api_key, `${key}.api_key`, { fallback: '' }),
      models: c.stringList(p.models, `${key}.models`),
      price: {
        input_per_1m: c.number(price.input_per_1m, `${key}.price.input_per_1m`, { fallback: 0, min: 0 }),
        output_per_1m: c.number(price.output_per_1m, `${key}.price.output_per_1m`, { fallback: 0, min: 0 }),
        // Cached input: cache reads and cache writes (Anthropic); both default to the input price.
        cached_input_per_1m: c.number(price.cached_input_per_1m, `${key}.price.cached_input_per_1m`, { fallback: undefined, min: 0 }),
        cache_write_per_1m: c.number(price.cache_write_per_1m, `${key}.price.cache_write_per_1m`, { fallback: undefined, min: 0 }),
      },
      timeout_ms: c.number(p.timeout_ms, `${key}.timeout_ms`, { fallback: 60000, min: 100 }),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
      // What a provider does not accept: stream_usage false = never add stream_options.include_usage
      // (older Azure api-versions refuse it); drop_fields = request fields removed before sending.
      quirks: { stream_usage: c.bool(quirks.stream_usage, `${key}.quirks.stream_usage`, true), drop_fields: c.stringList(quirks.drop_fields, `${key}.quirks.drop_fields`) },
      auth,
      overage,
      // Client headers sent on to an auth: client provider beside the credential (docs/accounts.md).
      forward_headers: auth === 'client' ? [...new Set([...CLIENT_FORWARD_DEFAULT, ...forward])] : forward,
      accounts: accountsOf(c, p.accounts, key, auth),
    };
  });

  const modelGroups = modelGroupsOf(c, doc.model_groups, providers);
  const routing = c.object(doc.routing, 'routing');
  c.keys(routing, 'routing', ['weights', 'thresholds', 'default_cooldown_s', 'learn_after_rejections', 'unhealthy_after_failures', 'max_attempts', 'max_upstream_wait_s']);

  const ledger = c.object(doc.ledger, 'ledger');
  c.keys(ledger, 'ledger', ['dir', 'path', 'retention_days', 'checkpoint_interval_s', 'fsync', 'backend', 'postgres', 'segment_worker']);
  const ledgerBackend = c.string(ledger.backend, 'ledger.backend', { fallback: 'sqljs' });
  if (!['sqljs', 'postgres'].includes(ledgerBackend)) c.fail('ledger.backend', 'sqljs or postgres', ledgerBackend);
  if (ledgerBackend !== 'postgres' && ledger.postgres !== undefined) c.object(ledger.postgres, 'ledger.postgres');
  const metadataDir = expandHome(c.string(doc.metadata_dir, 'metadata_dir', { fallback: '' }) ||
    env.QUOTAGATE_METADATA_DIR || env.FAIGATE_PROVIDER_METADATA_DIR || path.join(defaultConfigDir(), 'metadata'));

  const poll = c.object(doc.quota_poll, 'quota_poll');
  c.keys(poll, 'quota_poll', ['enabled', 'on_startup', 'interval_seconds', 'fast_lane_interval_seconds', 'timeout_seconds', 'providers', 'exchange_rates']);
  const rates = c.object(poll.exchange_rates, 'quota_poll.exchange_rates');
  for (const [pair, rate] of Object.entries(rates)) {
    if (!/^[A-Z]{3}\/[A-Z]{3}$/.test(pair)) c.fail(`quota_poll.exchange_rates.${pair}`, 'a currency pair such as "CNY/USD"', pair);
    c.number(rate, `quota_poll.exchange_rates.${pair}`, { min: 1e-9 });
  }
  const pollProviders = c.object(poll.providers, 'quota_poll.providers');
  for (const [name, p] of Object.entries(pollProviders)) {
    const key = `quota_poll.providers.${name}`;
    if (!['deepseek', 'openrouter', 'kilo', 'moonshot'].includes(name)) c.fail(key, 'one of deepseek, openrouter, kilo, moonshot', name);
    c.object(p, key);
    c.keys(p, key, ['base_url', 'api_key', 'management_key', 'endpoints']);
    c.string(p.base_url, `${key}.base_url`);
    if (p.endpoints !== undefined) c.stringList(p.endpoints, `${key}.endpoints`);
  }
  const quotaPoll = {
    enabled: c.bool(poll.enabled, 'quota_poll.enabled', false),
    on_startup: c.bool(poll.on_startup, 'quota_poll.on_startup', true),
    interval_seconds: c.number(poll.interval_seconds, 'quota_poll.interval_seconds', { fallback: 3600, min: 1 }),
    fast_lane_interval_seconds: c.number(poll.fast_lane_interval_seconds, 'quota_poll.fast_lane_interval_seconds', { fallback: 900, min: 1 }),
    timeout_seconds: c.number(poll.timeout_seconds, 'quota_poll.timeout_seconds', { fallback: 20, min: 0.1 }),
    providers: pollProviders,
    exchange_rates: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Number(v)])),
  };

  return {
    file,
    server,
    providers,
    routing: {
      engine: {
        ...(routing.weights ? { weights: c.object(routing.weights, 'routing.weights') } : {}),
        ...(routing.thresholds ? { thresholds: c.object(routing.thresholds, 'routing.thresholds') } : {}),
        ...(routing.default_cooldown_s !== undefined ? { default_cooldown_s: c.number(routing.default_cooldown_s, 'routing.default_cooldown_s', { min: 0 }) } : {}),
        ...(routing.learn_after_rejections !== undefined ? { learn_after_rejections: c.number(routing.learn_after_rejections, 'routing.learn_after_rejections', { min: 1, integer: true }) } : {}),
        ...(routing.unhealthy_after_failures !== undefined ? { unhealthy_after_failures: c.number(routing.unhealthy_after_failures, 'routing.unhealthy_after_failures', { min: 1, integer: true }) } : {}),
        ...(routing.max_upstream_wait_s !== undefined ? { max_upstream_wait_s: c.number(routing.max_upstream_wait_s, 'routing.max_upstream_wait_s', { min: 1, max: 366 * 86400 }) } : {}),
        ...(Object.keys(modelGroups).length ? { model_groups: modelGroups } : {}),
      },
      max_attempts: c.number(routing.max_attempts, 'routing.max_attempts', { fallback: 4, min: 1, max: 20, integer: true }),
    },
    metadata_dir: metadataDir,
    ledger: {
      dir: expandHome(c.string(ledger.dir ?? ledger.path, 'ledger.dir', { fallback: '' }) || path.join(defaultDataDir(), 'ledger')),
      retention_days: c.number(ledger.retention_days, 'ledger.retention_days', { fallback: 35, min: 1, max: 3650 }),
      checkpoint_interval_s: c.number(ledger.checkpoint_interval_s, 'ledger.checkpoint_interval_s', { fallback: 5, min: 0.05 }),
      fsync: c.bool(ledger.fsync, 'ledger.fsync', false),
      // The open SQLite segment in a worker thread (checkpoints off the request path); false runs
      // them on the event loop (the v1 behaviour, kept for comparison: docs/performance.md).
      segment_worker: c.bool(ledger.segment_worker, 'ledger.segment_worker', true),
      backend: ledgerBackend,
      postgres: ledgerBackend === 'postgres' ? postgresSettings(c, ledger.postgres, file) : null,
    },
    quota_poll: quotaPoll,
    alerts: alertsOf(c, doc.alerts),
    telemetry: telemetryOf(c, doc.telemetry),
    demo: c.bool(doc.demo, 'demo', false),
    log_level: c.string(doc.log_level, 'log_level', { fallback: 'info' }),
  };
}

// ledger.postgres: the shared ledger's connection and batching. The URL is never echoed in an
// error (it may hold a password).
function postgresSettings(c, raw, file) {
  const pgc = c.object(raw, 'ledger.postgres');
  c.keys(pgc, 'ledger.postgres', ['url', 'instance_id', 'batch_ms', 'batch_max', 'follow_interval_ms', 'pool_size', 'connect_timeout_ms', 'election_interval_ms']);
  const url = pgc.url;
  let parsed = null;
  try {
    parsed = typeof url === 'string' ? new URL(url) : null;
  } catch { /* reported below */ }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new ConfigError(`${file}: ledger.postgres.url: expected a postgres://user[:password]@host:port/database URL (ledger.backend is postgres)` +
      (url === undefined || url === '' ? ', got nothing (is the ${VARIABLE} it names set?)' : ''));
  }
  const instanceId = c.string(pgc.instance_id, 'ledger.postgres.instance_id', { fallback: '' });
  if (instanceId && !/^[A-Za-z0-9._:-]{1,100}$/.test(instanceId)) c.fail('ledger.postgres.instance_id', 'letters, digits and . _ : - (at most 100)', instanceId);
  return {
    url,
    password: decodeURIComponent(parsed.password || ''),
    instance_id: instanceId,
    batch_ms: c.number(pgc.batch_ms, 'ledger.postgres.batch_ms', { fallback: 5, min: 0, max: 1000 }),
    batch_max: c.number(pgc.batch_max, 'ledger.postgres.batch_max', { fallback: 2000, min: 1, max: 50000, integer: true }),
    follow_interval_ms: c.number(pgc.follow_interval_ms, 'ledger.postgres.follow_interval_ms', { fallback: 250, min: 10, max: 10000 }),
    pool_size: c.number(pgc.pool_size, 'ledger.postgres.pool_size', { fallback: 4, min: 2, max: 100, integer: true }),
    connect_timeout_ms: c.number(pgc.connect_timeout_ms, 'ledger.postgres.connect_timeout_ms', { fallback: 3000, min: 100 }),
    election_interval_ms: c.number(pgc.election_interval_ms, 'ledger.postgres.election_interval_ms', { fallback: 5000, min: 100 }),
  };
}

// Reads and validates a config file. A missing file is an error only when it was named explicitly.
function loadConfig(file, { env = process.env } = {}) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config (${err.code || err.message})`);
  }
  const envFile = path.join(path.dirname(file), '.env');
  if (fs.existsSync(envFile) && env === process.env) {
    try {
      process.loadEnvFile(envFile);  // never overrides variables already set
    } catch (err) {
      throw new ConfigError(`${envFile}: cannot read (${err.message})`);
    }
  }
  let parsed;
  try {
    parsed = YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    const where = err.linePos && err.linePos[0] ? `:${err.linePos[0].line}:${err.linePos[0].col}` : '';
    throw new ConfigError(`${file}${where}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
  return normalise(interpolate(parsed ?? {}, env), file, env);
}

module.exports = { loadConfig, normalise, interpolate, ConfigError, defaultConfigDir, defaultDataDir, isLoopback, CLIENT_FORWARD_DEFAULT };
