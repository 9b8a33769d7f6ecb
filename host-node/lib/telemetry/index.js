// The gateway's one entry to trace export: startTelemetry() gives the proxy its request tracer, or
// null when telemetry.otlp_endpoint is not set. Off, nothing of the OpenTelemetry SDK or exporter
// is required (prom-client alone loads @opentelemetry/api, for its exemplars), no span is made,
// and the proxy's hooks are one null check per request and per upstream attempt.
'use strict';

// settings: config.telemetry; providers: the configured providers (their names, backends and
// base URLs give each attempt's gen_ai.system and server.address); redactor: the process
// redactor; version: the gateway's (service.version). Returns null, or
// { tracer: RequestTracer, flush(), shutdown() }.
function startTelemetry({ settings, providers, redactor, log, version }) {
  if (!settings || !settings.otlp_endpoint) return null;
  const { startOtlpPipeline } = require('./otlp-pipeline');
  const { RequestTracer } = require('./request-tracer');
  const pipeline = startOtlpPipeline({ settings, log, redactor, version });
  const tracer = new RequestTracer({ tracer: pipeline.tracer, providers, redactor });
  log.info({ service_name: settings.service_name }, 'OpenTelemetry trace export on (OTLP/HTTP)');
  return { tracer, flush: () => pipeline.flush(), shutdown: () => pipeline.shutdown() };
}

module.exports = { startTelemetry };
