// The HTTP surface (express 5): OpenAI- and Anthropic-compatible endpoints, the quota API,
// metrics and health, with client-key and admin-token checks and errors in each API's own shape.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const express = require('express');
const { ClientError } = require('./client-error');
const { addModelRoutes } = require('./models-endpoint');
const { countTokens } = require('./count-tokens');
const { CODECS } = require('./wire');
const { createGuard } = require('./gateway-guard');
const { jsonDepth, MAX_DEPTH } = require('./json-text');
const { isPlainJson, readPlainJson } = require('./json-body');

function digest(s) {
  return crypto.createHash('sha256').update(String(s)).digest();
}

// Constant-time membership: every configured key is compared, with equal-length digests.
function keyMatches(candidate, digests) {
  if (typeof candidate !== 'string' || !candidate) return false;
  const d = digest(candidate);
  let ok = false;
  for (const k of digests) ok = crypto.timingSafeEqual(d, k) || ok;
  return ok;
}

// The gateway key a client presents: x-quotagate-key when present (its Authorization is then its
// own credential, for auth: client providers), else Authorization: Bearer or x-api-key.
function gatewayKey(req) {
  const own = req.headers['x-quotagate-key'];
  if (typeof own === 'string') return own.trim();
  return bearer(req) || req.headers['x-api-key'];
}

function bearer(req) {
  const h = req.headers.authorization;
  return typeof h === 'string' && /^Bearer\s+/i.test(h) ? h.replace(/^Bearer\s+/i, '').trim() : null;
}

// A cookie's value, or null; a malformed one (bad percent-encoding, too long) is treated as absent.
function cookie(req, name) {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

// The dashboard session cookie's value: derived from the admin token (HMAC-SHA256), so the cookie
// never holds the token itself, and rotating the token ends every session.
function sessionValue(adminToken) {
  return crypto.createHmac('sha256', adminToken).update('quotagate dashboard session v1').digest('hex');
}

// body-parser's verify hook: the nesting depth is checked on the raw bytes before JSON.parse (one
// linear pass, cheaper than the parse itself). A body in another charset (UTF-16, as the
// content type may declare) is decoded first: the byte scan reads UTF-8 only.
function depthCheck(req, res, buf, encoding) {
  let data = buf;
  if (encoding && !/^utf-?8$/i.test(encoding)) {
    try {
      data = new TextDecoder(encoding).decode(buf);
    } catch {
      data = buf;  // an encoding TextDecoder does not know: body-parser refuses it (415)
    }
  }
  if (jsonDepth(data, MAX_DEPTH) > MAX_DEPTH) {
    const err = new Error(`request JSON is nested deeper than ${MAX_DEPTH} levels`);
    err.type = 'entity.too.deep';
    err.status = 400;
    throw err;
  }
}

const ROOT = path.resolve(__dirname, '..', '..');
const WEB_DIR = path.join(ROOT, 'web');
const UPLOT_DIR = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
// The browser build (no eval): the newest of the packaged copy and the local build.
function webWasmDir() {
  const dirs = [process.env.QUOTAGATE_WEB_WASM_DIR, path.join(ROOT, 'wasm', 'web-dist'), path.join(ROOT, 'build-wasm', 'web')]
    .filter((d) => d && fs.existsSync(path.join(d, 'quotagate.wasm')));
  if (process.env.QUOTAGATE_WEB_WASM_DIR && dirs[0] === process.env.QUOTAGATE_WEB_WASM_DIR) return dirs[0];
  dirs.sort((a, b) => fs.statSync(path.join(b, 'quotagate.wasm')).mtimeMs - fs.statSync(path.join(a, 'quotagate.wasm')).mtimeMs);
  return dirs[0] || null;
}
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Plain node:http writes (no express helpers): also used by the fast path.
function sendJson(res, status, doc) {
  const text = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function openAiError(res, status, message, code, type) {
  sendJson(res, status, { error: { message, type: type || (status >= 500 ? 'server_error' : 'invalid_request_error'), code: code || null } });
}

// The client's wire format, by path (as express routes it: case-insensitive, trailing slash).
function formatOf(req) {
  const p = pathOf(req).toLowerCase().replace(/\/+$/, '');
  if (p === '/v1/messages' || p === '/v1/messages/count_tokens') return 'messages';
  if (p.startsWith('/v1/models') && typeof req.headers['anthropic-version'] === 'string') return 'messages';  // the Anthropic SDK's models calls
  if (p === '/v1/responses') return 'responses';
  return 'chat';
}

// The error types OpenAI's SDK knows, by status, for errors that carry none of their own.
const TYPE_BY_STATUS = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'invalid_request_error', 415: 'invalid_request_error', 421: 'invalid_request_error', 429: 'rate_limit_error' };

// What /health and the dashboard may show of the ledger's state (no errors, hosts or lags: those
// are /api/ledger's, behind the admin token).
function ledgerSummary(h) {
  return { backend: h.backend, degraded: h.degraded, reason: h.reason ?? null, connected: h.connected ?? null, unshipped_events: h.unshipped_events ?? 0 };
}

// The path without the query (express's req.path, also for plain node:http requests).
function pathOf(req) {
  const url = req.originalUrl || req.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function createApp({ engine, proxy, config, metrics, log, redactor, demo, now = Date.now, ledgerHealth = () => ({ backend: 'none', degraded: false }), extraRoutes }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const clientKeyDigests = config.server.client_keys.map(digest);
  const adminDigest = config.server.admin_token ? [digest(config.server.admin_token)] : null;
  const sessionDigest = config.server.admin_token ? [digest(sessionValue(config.server.admin_token))] : null;
  // Every content type reaches the parser only after the guard has required JSON on the API paths.
  const json = express.json({ limit: config.server.body_limit, strict: false, type: () => true, verify: depthCheck });
  const guard = createGuard({ host: config.server.host, allowedHosts: config.server.allowed_hosts || [], allowedOrigins: config.server.allowed_origins || [] });
  const guarded = (req, res) => {
    const refused = guard(req, pathOf(req));
    if (!refused) return false;
    writeError(new ClientError(refused.status, refused.message, refused.code), req, res);
    return true;
  };
  app.use((req, res, next) => (guarded(req, res) ? undefined : next()));

  const requireClientKey = (req, res, next) => {
    if (!clientKeyDigests.length) return next();
    if (keyMatches(gatewayKey(req), clientKeyDigests)) return next();
    throw new ClientError(401, 'invalid or missing API key', 'invalid_api_key');
  };
  const requireAdmin = (req, res, next) => {
    if (!adminDigest) return next();
    if (keyMatches(bearer(req), adminDigest) || keyMatches(cookie(req, 'qg_admin'), sessionDigest)) return next();
    if (req.path.startsWith('/dashboard') && req.method === 'GET') return res.redirect(303, '/dashboard/login');
    res.status(401).set('www-authenticate', 'Bearer').json({ error: { message: 'admin token required (Authorization: Bearer <admin_token>)', type: 'authentication_error', code: 'admin_token_required' } });
  };
  app.locals.requireAdmin = requireAdmin;

  // Quotas document, computed at most once per millisecond tick for concurrent readers.
  let cached = { at: -1, doc: null };
  const quotas = () => {
    const t = now();
    if (cached.at !== t) {
      const catalogError = app.locals.catalogError ? app.locals.catalogError() : null;
      // The engine never receives a known secret (the proxy redacts what it observes); redacting
      // its text again here also covers state seeded from elsewhere (shared signals, a catalog).
      const doc = { ...JSON.parse(redactor.text(engine.quotasJson(t))), demo, catalog_error: catalogError && redactor.text(catalogError), ledger: ledgerSummary(ledgerHealth()) };
      const extras = app.locals.packageExtras;
      for (const p of doc.packages) Object.assign(p, { last_polled_at: null, last_poll_error: null, poll_endpoint: null }, extras ? extras(p.package_id) : null);
      cached = { at: t, doc };
    }
    return cached.doc;
  };
  app.locals.quotas = quotas;

  // Serving is never refused for a degraded ledger: status says so and the ledger block says why.
  app.get('/health', (req, res) => {
    const h = ledgerHealth();
    res.json({ status: h.degraded ? 'degraded' : 'ok', demo, uptime_s: Math.round(process.uptime()),
      ledger: { ...ledgerSummary(h), ...(h.backend === 'postgres' ? { poller_leader: h.poller_leader } : {}) } });
  });
  // The whole ledger picture (last error, lags, shipped counts) is an admin matter.
  app.get('/api/ledger', requireAdmin, (req, res) => {
    const h = ledgerHealth();
    res.json({ ...h, ...(h.last_error ? { last_error: redactor.text(h.last_error) } : {}) });
  });

  addModelRoutes(app, { guard: requireClientKey, providers: config.providers, groups: [...proxy.modelGroups], catalogModels: () => (app.locals.catalogModels ? app.locals.catalogModels() : []),
    notFound: (req, res, message) => writeError(new ClientError(404, message, 'model_not_found', {}, { type: 'not_found_error', param: 'model' }), req, res) });

  app.post('/v1/chat/completions', requireClientKey, json, (req, res) => proxy.handle(req, res, 'chat'));
  app.post('/v1/messages', requireClientKey, json, (req, res) => proxy.handle(req, res, 'messages'));
  app.post('/v1/responses', requireClientKey, json, (req, res) => proxy.handle(req, res, 'responses'));
  app.post('/v1/messages/count_tokens', requireClientKey, json, (req, res) => countTokens(proxy, req, res));

  // The three proxy endpoints, exactly as spelled, bypass express: express re-prototypes req and
  // res on every request, which measured ~105 us of CPU per request here (Node 20) against ~20 us
  // for the same response from node:http. Same checks, the same proxy and the same error writer;
  // any other spelling of these paths (a trailing slash, upper case) still goes through express.
  // The plain body (identity encoding, Content-Length, UTF-8) is read by json-body.js with
  // body-parser's outcomes; any other body goes to body-parser's json (express.json) itself.
  // Returns false when not handled.
  const FAST = { '/v1/chat/completions': 'chat', '/v1/messages': 'messages', '/v1/responses': 'responses' };
  const fastPath = (req, res) => {
    if (req.method !== 'POST') return false;
    const q = req.url.indexOf('?');
    const kind = FAST[q < 0 ? req.url : req.url.slice(0, q)];
    if (!kind) return false;
    if (guarded(req, res)) return true;
    const fail = (err) => writeError(err, req, res);
    try {
      requireClientKey(req, res, () => {});
    } catch (err) {
      fail(err);
      return true;
    }
    const parsed = (err) => {
      if (err) return fail(err);
      proxy.handle(req, res, kind).catch(fail);
    };
    if (isPlainJson(req, config.server.body_limit)) readPlainJson(req, config.server.body_limit, parsed);
    else json(req, res, parsed);
    return true;
  };
  app.locals.fastPath = fastPath;

  app.get('/api/quotas', requireAdmin, (req, res) => res.json(quotas()));
  app.get('/api/state', requireAdmin, (req, res) => {
    res.type('application/json').send(`{"demo":${demo},"state":${redactor.text(engine.stateJson(now()))}}`);
  });
  app.get('/api/usage', requireAdmin, (req, res) => {
    const pkg = typeof req.query.package === 'string' ? req.query.package : '';
    const m = /^(\d{1,2})d$/.exec(typeof req.query.range === 'string' ? req.query.range : '7d');
    if (!pkg || !m || Number(m[1]) < 1 || Number(m[1]) > 35) {
      return openAiError(res, 400, 'expected ?package=ID&range=Nd (N = 1..35)', 'invalid_request');
    }
    // ?account=ID: one of the package's accounts (its id or fingerprint); default: the first.
    const account = req.query.account === undefined ? '*' : req.query.account;
    if (account !== '*' && (typeof account !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(account))) {
      return openAiError(res, 400, 'account: expected an account id or fingerprint (at most 64 letters, digits and . _ : -)', 'invalid_request');
    }
    const text = engine.usageJson(pkg, now(), Number(m[1]), account);
    const doc = JSON.parse(text);
    if (doc.error) return openAiError(res, 404, doc.error, 'not_found');
    res.type('application/json').send(text);
  });
  app.post('/api/route', requireAdmin, json, (req, res) => {
    const model = req.body && typeof req.body.model === 'string' && req.body.model ? req.body.model : 'auto';
    // The operator's view: every account is a candidate, whoever's credential it is.
    res.type('application/json').send(engine.routeJson(model, now(), '*'));
  });
  app.get('/metrics', requireAdmin, async (req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Dashboard: static, self-contained (no CDN), strict CSP; every value is rendered as text.
  const dashboardHeaders = (req, res, next) => {
    // same-origin: the browser names this origin on its own form posts (login), never elsewhere.
    res.set({ 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin', 'x-frame-options': 'DENY' });
    next();
  };
  app.use('/dashboard', dashboardHeaders);
  // The login page's stylesheet holds nothing secret: served before login.
  app.get('/dashboard/app.css', (req, res) => res.sendFile(path.join(WEB_DIR, 'app.css')));
  app.get('/dashboard/login', (req, res) => res.type('html').send('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>quotagate login</title>' +
    '<link rel="stylesheet" href="/dashboard/app.css"></head><body><main><form method="post" action="/dashboard/login" class="sim-form">' +
    '<label>Admin token <input type="password" name="token" autocomplete="current-password" required></label><button>Open dashboard</button></form></main></body></html>'));
  app.post('/dashboard/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const token = req.body && typeof req.body.token === 'string' ? req.body.token : '';
    if (adminDigest && !keyMatches(token, adminDigest)) return res.status(401).type('text').send('wrong token');
    if (adminDigest) res.cookie('qg_admin', sessionValue(config.server.admin_token), { httpOnly: true, sameSite: 'strict', path: '/' });
    res.redirect(303, '/dashboard/quotas');
  });
  app.get('/dashboard', requireAdmin, (req, res) => res.redirect(302, '/dashboard/quotas'));
  // The root: clients probe it (Claude Code sends HEAD /); people land on the dashboard.
  app.get('/', (req, res) => res.redirect(302, '/dashboard/quotas'));
  app.get('/dashboard/quotas', requireAdmin, (req, res) => res.sendFile(path.join(WEB_DIR, 'quotas.html')));
  app.get('/dashboard/simulate', requireAdmin, (req, res) => res.sendFile(path.join(WEB_DIR, 'simulate.html')));
  const staticOpts = { index: false, dotfiles: 'deny', fallthrough: true, redirect: false };
  app.use('/dashboard/vendor', requireAdmin, (req, res, next) => (['/uPlot.iife.min.js', '/uPlot.min.css'].includes(req.path) ? next() : res.status(404).end()),
    express.static(UPLOT_DIR, staticOpts));
  const wasmDir = webWasmDir();
  if (wasmDir) app.use('/dashboard/wasm', requireAdmin, express.static(wasmDir, staticOpts));
  app.use('/dashboard', requireAdmin, (req, res, next) => (/^\/[a-z]+\.(js|css)$/.test(req.path) ? next() : res.status(404).type('text').send('not found')),
    express.static(WEB_DIR, staticOpts));

  if (extraRoutes) extraRoutes(app, { requireAdmin, quotas });

  app.use((req, res) => writeError(new ClientError(404, `no route for ${req.method} ${req.path.slice(0, 200)}`, 'not_found', {}, { type: 'not_found_error' }), req, res));

  // Errors in the wire format of the API that was called (OpenAI's {error: {message, type, code,
  // param}} for Chat Completions and Responses, Anthropic's {type: "error", error: {type,
  // message}} for Messages); nothing secret is ever echoed. A wait longer than 60 s also says
  // `x-should-retry: false`: the official SDKs would otherwise sleep through all of it. Every
  // error answer gets a log line and a /metrics count with the status the client received.
  function writeError(err, req, res) {
    if (res.headersSent) {
      log.warn({ err: redactor.text(String(err && err.message)) }, 'error after headers were sent');
      return res.end();
    }
    let status = 500, message = 'internal error', code = 'internal_error', headers = {}, type = null, param = null;
    if (err instanceof ClientError) ({ status, message, code, extraHeaders: headers, type, param } = err);
    else if (err && err.type === 'entity.too.deep') [status, message, code] = [400, err.message, 'invalid_request'];
    else if (err && err.type === 'entity.too.large') [status, message, code] = [413, `request body larger than the ${config.server.body_limit} byte limit`, 'request_too_large'];
    else if (err && (err.type === 'entity.parse.failed' || err instanceof SyntaxError)) [status, message, code] = [400, 'malformed JSON in request body', 'invalid_json'];
    else if (err && (err.type === 'charset.unsupported' || err.type === 'encoding.unsupported')) [status, message, code] = [415, 'unsupported body encoding', 'unsupported_encoding'];
    else if (err && err.type === 'request.aborted') [status, message, code] = [400, 'the request ended before its body was complete', 'request_aborted'];
    // Any other body reading error is the client's (body-parser's http-errors mark them `expose`:
    // a gzip body that does not inflate, a length that does not match): never a 500.
    else if (err && err.expose === true && Number.isInteger(err.status) && err.status >= 400 && err.status < 500) [status, message, code] = [err.status, 'the request body could not be read', 'invalid_request'];
    else log.error({ err: redactor.text(String(err && err.stack)) }, 'unhandled error');
    for (const [k, v] of Object.entries(headers || {})) res.setHeader(k, v);
    const retryAfter = Number(headers && headers['retry-after']);
    if (retryAfter > 60) res.setHeader('x-should-retry', 'false');
    const format = formatOf(req);
    const e = { status, message: redactor.text(message), code, type: type || TYPE_BY_STATUS[status] || (status >= 500 ? 'server_error' : 'invalid_request_error'), param };
    sendJson(res, status, CODECS[format].encodeError(e));
    metrics.countRequest(format, 'none', status);
    if (!(err instanceof ClientError && err.logged)) {
      (status >= 500 ? log.warn : log.info).call(log, { method: req.method, path: pathOf(req).slice(0, 200), status, code, message: e.message.slice(0, 300) }, 'request refused');
    }
  }
  app.use((err, req, res, next) => writeError(err, req, res));  // eslint-disable-line no-unused-vars
  return app;
}

module.exports = { createApp, keyMatches };
