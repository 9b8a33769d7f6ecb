// Safe defaults for a gateway that listens on localhost, where any web page the operator opens can
// send it requests. Checked on every request, before authentication and before the body is read:
//  - Host: on a loopback bind (or when server.allowed_hosts is set) the Host header must name the
//    bound address, a loopback name or an allowed host. A DNS-rebinding page reaches us under its
//    own name and is refused (421).
//  - Cross-site browsers: a request whose Origin is not our own origin or an allowed one
//    (server.allowed_origins), or that a browser marks Sec-Fetch-Site cross-site/same-site without
//    an Origin, is refused (403), except plain GET/HEAD navigations (a link to the dashboard),
//    whose answers the other page cannot read.
//  - Content type: POST bodies to /v1/* and /api/* must be JSON (application/json or +json), so a
//    cross-site "simple" request (text/plain, no preflight) can never be parsed as one (415).
// Each check returns null or { status, message, code } for the caller's error writer.
'use strict';
const { isLoopback } = require('./config');

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD = new Set(['0.0.0.0', '::', '']);

// "host:port", "[v6]:port" or "host" -> the lower-case host name without brackets.
function hostName(header) {
  const h = String(header).trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

function createGuard({ host, allowedHosts = [], allowedOrigins = [] }) {
  const bound = String(host || '').toLowerCase();
  const checkHost = isLoopback(bound) || allowedHosts.length > 0;
  const hosts = new Set([...LOOPBACK_NAMES, ...allowedHosts.map((h) => hostName(h))]);
  if (!WILDCARD.has(bound)) hosts.add(hostName(bound));
  const origins = new Set(allowedOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));

  const hostAllowed = (name) => hosts.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);

  return function guard(req, path) {
    const h = req.headers;
    if (checkHost && h.host !== undefined && !hostAllowed(hostName(h.host))) {
      return { status: 421, code: 'host_not_allowed',
        message: `Host "${hostName(h.host).slice(0, 100)}" is not a name this gateway answers to (add it to server.allowed_hosts)` };
    }
    const origin = typeof h.origin === 'string' ? h.origin.replace(/\/+$/, '').toLowerCase() : null;
    const fetchSite = typeof h['sec-fetch-site'] === 'string' ? h['sec-fetch-site'].toLowerCase() : null;
    const navigation = (req.method === 'GET' || req.method === 'HEAD') && h['sec-fetch-mode'] === 'navigate';
    const own = h.host !== undefined && origin !== null && (origin === `http://${String(h.host).toLowerCase()}` || origin === `https://${String(h.host).toLowerCase()}`);
    // "Origin: null" with Sec-Fetch-Site: same-origin (a header only the browser sets) is this
    // origin's own form post under a no-referrer policy.
    const opaqueOwn = origin === 'null' && fetchSite === 'same-origin';
    const crossSite = origin !== null ? !own && !opaqueOwn && !origins.has(origin) : fetchSite === 'cross-site' || fetchSite === 'same-site';
    if (crossSite && !navigation) {
      return { status: 403, code: 'cross_site_request',
        message: `cross-site browser requests are refused (origin ${origin === null ? 'not sent' : JSON.stringify(origin.slice(0, 100))}; allow one with server.allowed_origins)` };
    }
    const p = path.toLowerCase();  // express routes paths case-insensitively
    if (req.method === 'POST' && (p.startsWith('/v1/') || p.startsWith('/api/'))) {
      const type = String(h['content-type'] || '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
        return { status: 415, code: 'unsupported_media_type', message: `the request body must be JSON (Content-Type: application/json), got ${JSON.stringify(type.slice(0, 100) || 'none')}` };
      }
    }
    return null;
  };
}

module.exports = { createGuard, hostName };
