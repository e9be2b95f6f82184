import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The name the gateway's spans are recorded under. */
export const TRACER_NAME = 'picwish-gateway';

/** A started tracing setup; `shutdown` sends what is still buffered and switches tracing off. */
export interface Tracing {
  shutdown(): Promise<void>;
}

let enabled = false;

/**
 * Turns OpenTelemetry tracing on for this process: spans are batched and sent over OTLP/HTTP to
 * `<endpoint>/v1/traces`, context follows async work (AsyncLocalStorage) and W3C `traceparent`
 * headers are read. The OpenTelemetry API is process-wide, so one gateway per process traces; when
 * tracing is off every span below is the API's no-op and requests pay nothing for it.
 */
export function startTracing(options: { endpoint: string; serviceName: string }): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint}/v1/traces` }))],
  });
  provider.register();
  enabled = true;
  return {
    shutdown: async () => {
      enabled = false;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * Runs `work` (Yoga answering one request) inside a server span that continues the caller's trace
 * (`traceparent`) and ends when the response closes, so whatever the request starts — a task's
 * create, polls and downloads (scheduler/task-traces.ts), log lines — can name it.
 */
export function traceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  closed: Promise<void>,
  work: () => Promise<void>,
): Promise<void> {
  if (!enabled) return work();
  const parent = propagation.extract(context.active(), req.headers);
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `${req.method ?? 'GET'} /graphql`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method ?? '', 'url.path': req.url ?? '' },
    },
    parent,
  );
  void closed.then(() => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), work);
}

/** The trace id of the span current in this async context, for log lines; undefined when none. */
export function currentTraceId(): string | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  return span?.spanContext().traceId;
}
