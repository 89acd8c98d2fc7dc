/*
 * Child process of the benchmark: measures the in-process ingest limit for one encoding on a
 * clean heap. Arguments: encoding, span count, seed. Prints {"spansPerSecond": n}.
 */
import type { Encoding } from './ingest-bench.js';
import { ingestInProcess, prepareBatches } from './ingest-bench.js';

const [encoding, spanCount, seed] = process.argv.slice(2);
if (encoding !== 'protobuf' && encoding !== 'json')
  throw new Error('usage: in-process-limit.ts protobuf|json N SEED');
const batches = prepareBatches(Number(spanCount), Number(seed));
const bodies = batches[encoding satisfies Encoding];
// Keep only this encoding's bodies, as the collector holds only the requests it is handling.
batches.json = [];
batches.protobuf = [];
globalThis.gc?.();
const spansPerSecond = await ingestInProcess(bodies, batches.spansPerBatch, encoding);
process.stdout.write(JSON.stringify({ spansPerSecond }));
