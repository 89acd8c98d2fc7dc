/*
 * The lookup workload at sizes the store cannot fill in a session (100M events: ~4 h through the
 * store here, issue 14): `generated` events made by the real span → event mapping, then `factor`
 * interleaved copies of them made inside ClickHouse by INSERT … SELECT, at the server's speed.
 * Copy k of event j becomes event i = factor·j + k, with what the workload derives from i
 * (workload.ts auditAttributes: request id req-i, resource i % 100,000, access key i % 997, client
 * address) rewritten on the row and in the record, and a unique event id; so request ids, resources
 * and keys are spread as if the workload had been generated at factor× the size (the times stay:
 * the workload spreads any total over the same 30 days). Random fields (user, event name, trace
 * and span ids, the rest of the event id) repeat once per copy.
 */

/** Copies k of a commit sequence stay distinct and below 2^53 (the store reads seq as a Number). */
const MAX_FACTOR = 16;

export function checkFactor(factor: number): void {
  if (!Number.isInteger(factor) || factor < 1 || factor > MAX_FACTOR)
    throw new Error(`copies: a factor of 1 to ${MAX_FACTOR}, not ${factor}`);
}

/**
 * Settings for running a copy on both cores here. Two insert threads build the text index of two
 * parts at once; but the events table feeds the minute-count view, and with a view attached 26.7
 * narrows the insert to one stream unless views are processed in parallel (measured: 991–1,103 s a
 * 10M copy on one core without it).
 */
export const COPY_SETTINGS = {
  wait_end_of_query: 1,
  max_execution_time: 0,
  max_insert_threads: '2',
  parallel_view_processing: 1,
} as const;

/** The INSERT … SELECT writing copy `k` (0 ≤ k < factor) of `source`.events into `target`.events. */
export function copyStatement(source: string, target: string, factor: number, k: number): string {
  checkFactor(factor);
  if (!Number.isInteger(k) || k < 0 || k >= factor) throw new Error(`copy ${k} of ${factor}`);
  const suffix = k.toString(16).padStart(2, '0');
  return `INSERT INTO ${target}.events
    WITH toUInt64(extract(record, '"requestID":"req-(\\\\d+)"')) AS j, j * ${factor} + ${k} AS i,
      concat(substring(event_id, 1, 34), '${suffix}') AS id,
      concat('AKIA', leftPad(toString(i % 997), 12, '0')) AS key,
      concat('10.', toString(i % 7), '.', toString(i % 251), '.', toString(i % 13)) AS ip,
      concat('resource-', toString(i % 100000)) AS resource
    SELECT event_time_ms, id, seq * ${MAX_FACTOR} + ${k}, keep_first * ${MAX_FACTOR} + ${MAX_FACTOR - 1 - k},
      event_name, event_source, username, key, read_only, error_code, ip, event_category, user_arn,
      user_agent, resource_types, [resource],
      replaceRegexpAll(replaceRegexpOne(replaceRegexpOne(replaceRegexpAll(replaceOne(record, event_id, id),
        '"AKIA\\\\d+"', concat('"', key, '"')),
        '"sourceIPAddress":"[0-9.]+"', concat('"sourceIPAddress":"', ip, '"')),
        '"requestID":"req-\\\\d+"', concat('"requestID":"req-', toString(i), '"')),
        '"resource-\\\\d+"', concat('"', resource, '"'))
    FROM ${source}.events`;
}
