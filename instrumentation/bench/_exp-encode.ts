// Temporary experiment (not committed): instructions of serialising 512 spans, by attribute set.
import { randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

const [mode, itersArg] = process.argv.slice(2);
const iters = Number(itersArg);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('x');
const spans: ReadableSpan[] = [];
for (let i = 0; i < 512; i++) {
  const span = tracer.startSpan('GET', { kind: SpanKind.SERVER });
  if (mode === 'crumbtrail' || mode === 'flat-uuid') {
    span.setAttribute('crumbtrail.event_name', 'GetStatus');
    span.setAttribute('crumbtrail.identity_type', 'IAMUser');
    span.setAttribute('user.name', 'bench');
    const id = randomUUID();
    span.setAttribute('crumbtrail.request_id', mode === 'flat-uuid' ? Buffer.from(id).toString('latin1') : id);
    span.setAttribute('network.peer.address', '127.0.0.1');
    span.setAttribute('http.request.method', 'GET');
    span.setAttribute('http.response.status_code', 200);
  }
  span.end();
}
spans.push(...exporter.getFinishedSpans());
void trace;
let bytes = 0;
for (let i = 0; i < iters; i++) bytes += ProtobufTraceSerializer.serializeRequest(spans)!.length;
console.log(mode, iters, bytes / iters / 512);
