// The OpenTelemetry SDK side of trace export: a tracer provider (resource: service.name and
// service.version), a BatchSpanProcessor (spans leave the request path at once; export runs off it,
// in batches) and the OTLP/HTTP exporter (JSON) to telemetry.otlp_endpoint with telemetry.headers.
// Required only when telemetry is on (telemetry/index.js). Export failures are logged, redacted,
// at most once a minute; a collector that is down never slows or fails a request.
'use strict';
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes, defaultResource } = require('@opentelemetry/resources');
const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = require('@opentelemetry/semantic-conventions');

const EXPORT_TIMEOUT_MS = 5000;     // one export request
const SHUTDOWN_LIMIT_MS = 6000;     // close() waits at most this long for the last batch
const FAILURE_LOG_EVERY_MS = 60000;
const MAX_QUEUE = 4096;             // spans waiting for export; beyond, new spans are dropped
// Spans per export. A batch is serialised (JSON) in one synchronous step on the event loop, inside
// the span.end() that fills it: 128 spans hold the loop about a quarter as long as the SDK's
// default 512 (one request in 64 pays it instead of one in 256).
const BATCH = 128;

// A SpanExporter in front of the OTLP one that reports failed exports to the gateway's log.
function loggingExporter(exporter, log, redactor) {
  let lastLogged = 0;
  let failures = 0;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          failures++;
          const now = Date.now();
          if (now - lastLogged >= FAILURE_LOG_EVERY_MS) {
            lastLogged = now;
            const why = result.error ? String(result.error.code || result.error.message || result.error).slice(0, 300) : 'unknown';
            log.warn({ failures, spans: spans.length, error: redactor.text(why) }, 'OpenTelemetry trace export failed; spans dropped');
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
  };
}

// settings: config.telemetry. Returns { tracer, flush(), shutdown() }.
function startOtlpPipeline({ settings, log, redactor, version }) {
  const exporter = new OTLPTraceExporter({ url: settings.otlp_endpoint, headers: { ...settings.headers }, timeoutMillis: EXPORT_TIMEOUT_MS });
  const processor = new BatchSpanProcessor(loggingExporter(exporter, log, redactor), { maxQueueSize: MAX_QUEUE, maxExportBatchSize: BATCH, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
  const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.service_name, [ATTR_SERVICE_VERSION]: version }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('quotagate', version);
  let stopped = null;
  return {
    tracer,
    // Every span ended so far is exported, or its export failed (logged above), when this resolves.
    flush: () => provider.forceFlush().catch(() => {}),
    // The last batch is sent, within SHUTDOWN_LIMIT_MS; later spans are not recorded.
    shutdown() {
      if (!stopped) {
        let timer;
        const limit = new Promise((resolve) => { timer = setTimeout(resolve, SHUTDOWN_LIMIT_MS); });
        stopped = Promise.race([provider.shutdown().catch((err) => log.warn({ err: redactor.text(String(err && err.message)) }, 'OpenTelemetry shutdown failed')), limit])
          .finally(() => clearTimeout(timer));
      }
      return stopped;
    },
  };
}

module.exports = { startOtlpPipeline };
