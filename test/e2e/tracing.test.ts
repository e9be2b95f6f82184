import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logging.js';
import { startTracing } from '../../src/observability/tracing.js';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { startStack, uploadOperation } from '../support/harness.js';
import { settled, TASK_FIELDS, type TaskView } from '../support/task-ops.js';

/**
 * OpenTelemetry tracing end to end: the gateway sends OTLP/HTTP to an in-process receiver on
 * loopback, and one task's whole life — the request that created it, its create call, polls and
 * result downloads — arrives as one trace.
 */

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}

/** A minimal OTLP/HTTP JSON trace receiver: it keeps every span posted to /v1/traces. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close: () => Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { scopeSpans: { spans: ReceivedSpan[] }[] }[];
        };
        for (const resource of body.resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: ReceivedSpan, key: string) =>
  span.attributes.find((a) => a.key === key)?.value.stringValue;

describe('tracing', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it("sends one trace for a task's whole life, under the request that created it", async () => {
    const stack = await startStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    let task: TaskView;
    try {
      const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const answer = await uploadOperation(
        stack.url,
        generateUpload(TASK_FIELDS),
        { file: null, key: null, deadline: null, prompt: 'a sunny beach', batch: 2 },
        { variablePath: 'variables.file', bytes: await transparentPng(400, 300) },
        { 'apollo-require-preflight': 'true', traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
      );
      task = (answer.body.data as { generateBackground: TaskView }).generateBackground;
      expect((await settled(stack, task.id)).state).toBe('SUCCEEDED');
    } finally {
      // Closing the gateway flushes the spans still batched.
      await stack.close();
    }
    const request = receiver.spans.find(
      (s) => s.name === 'POST /graphql' && s.parentSpanId === '00f067aa0ba902b7',
    );
    expect(request?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const ofTask = receiver.spans.filter((s) => attribute(s, 'task.id') === task.id);
    const names = ofTask.map((s) => s.name);
    expect(names).toContain('task.submit');
    expect(names).toContain('task.poll');
    expect(names.filter((n) => n === 'results.download')).toHaveLength(2);
    expect(new Set(ofTask.map((s) => s.traceId))).toEqual(new Set([request?.traceId]));
    for (const step of ofTask.filter((s) => s.name.startsWith('task.'))) {
      expect(step.parentSpanId).toBe(request?.spanId);
    }
    const steps = new Set(ofTask.filter((s) => s.name.startsWith('task.')).map((s) => s.spanId));
    for (const download of ofTask.filter((s) => s.name === 'results.download')) {
      expect(steps.has(download.parentSpanId ?? '')).toBe(true);
    }
  });

  it('puts the current trace id on log lines', async () => {
    const tracing = startTracing({ endpoint: receiver.url, serviceName: 'log-test' });
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    let traceId = '';
    trace.getTracer('test').startActiveSpan('work', (span) => {
      traceId = span.spanContext().traceId;
      logger.info('inside a span');
      span.end();
    });
    logger.info('outside any span');
    await tracing.shutdown();
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'inside a span', traceId });
    expect(JSON.parse(lines[1] as string)).not.toHaveProperty('traceId');
  });
});
