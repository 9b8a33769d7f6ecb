// Config `telemetry`: optional OpenTelemetry trace export (docs/config.md). Off unless
// otlp_endpoint is set. The endpoint and the exporter's headers may carry credentials: they are
// never shown in an error (config.js SECRET_KEY) and the process redactor knows them
// (telemetrySecrets, via redact.js configSecrets).
'use strict';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
// A header value at least this long is treated as a credential whatever its name (collectors name
// their key headers freely: x-honeycomb-team, signoz-access-token, dd-api-key ...).
const SECRET_VALUE_LENGTH = 16;

// telemetry: {otlp_endpoint: "http://host:4318/v1/traces", service_name: "quotagate",
// headers: {name: value}} -> {otlp_endpoint: string | null, service_name: string,
// headers: {name: value}}. c: config.js checker.
function telemetryOf(c, raw) {
  const t = c.object(raw, 'telemetry');
  c.keys(t, 'telemetry', ['otlp_endpoint', 'service_name', 'headers']);
  const endpoint = c.string(t.otlp_endpoint, 'telemetry.otlp_endpoint', { fallback: null });
  if (endpoint !== null) {
    let u = null;
    try {
      u = new URL(endpoint);
    } catch { /* reported below */ }
    if (!u || !['http:', 'https:'].includes(u.protocol)) c.fail('telemetry.otlp_endpoint', 'an http(s) URL of an OTLP/HTTP traces endpoint', endpoint);
  }
  // A collector's base URL (as in OTEL_EXPORTER_OTLP_ENDPOINT) means its traces path.
  let traces = endpoint;
  if (endpoint !== null) {
    const u = new URL(endpoint);
    if (u.pathname === '/' || u.pathname === '') {
      u.pathname = '/v1/traces';
      traces = u.toString();
    }
  }
  const serviceName = c.string(t.service_name, 'telemetry.service_name', { fallback: 'quotagate' });
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(serviceName)) c.fail('telemetry.service_name', 'letters, digits and . _ - (at most 100)', serviceName);
  // Sent with every export (a collector's API key): printable, no line breaks.
  const headers = c.object(t.headers, 'telemetry.headers');
  for (const [h, v] of Object.entries(headers)) {
    if (!HEADER_NAME.test(h)) c.fail('telemetry.headers', 'header names of letters, digits and - _ . (at most 100)', h);
    if (typeof v !== 'string' || !/^[\x20-\x7e]{1,8192}$/.test(v)) c.fail(`telemetry.headers.${h}`, 'a printable string without line breaks', v);
  }
  return { otlp_endpoint: traces, service_name: serviceName, headers: { ...headers } };
}

// What of the telemetry settings the redactor must know: the endpoint (it may hold a token in its
// user info or query) and each header value that is a credential by its name or its length.
function telemetrySecrets(t) {
  if (!t || !t.otlp_endpoint) return [];
  const { CREDENTIAL_HEADER } = require('../redact');  // here: redact.js requires this file
  const out = [t.otlp_endpoint];
  try {
    const u = new URL(t.otlp_endpoint);
    if (u.password) out.push(u.password, decodeURIComponent(u.password));
    for (const v of u.searchParams.values()) if (v.length >= SECRET_VALUE_LENGTH) out.push(v);
  } catch { /* validated by telemetryOf */ }
  for (const [h, v] of Object.entries(t.headers || {})) {
    if (CREDENTIAL_HEADER.test(h) || v.length >= SECRET_VALUE_LENGTH) out.push(v, v.replace(/^(Bearer|Basic)\s+/i, ''));
  }
  return out;
}

module.exports = { telemetryOf, telemetrySecrets };
