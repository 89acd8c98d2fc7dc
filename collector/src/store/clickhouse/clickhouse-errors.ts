/*
 * ClickHouse failures → the store's errors. 18.16 reaches the client as a plain Error whose message
 * holds "Code: NNN"; a server that is down or too slow shows as a network error or the client's
 * timeout. Those, and the server codes that mean "not now" (overloaded, a replica or shard away,
 * too many parts), become EngineUnavailableError: the receiver answers 503 + Retry-After and
 * the exporter retries, so nothing acknowledged is lost. Anything else is a bug and is thrown as is.
 */
import { EngineUnavailableError, QueryTimeoutError } from '../event-store.js';

/** TIMEOUT_EXCEEDED: max_execution_time stopped a query. */
const QUERY_TIMEOUT_CODES = new Set([159]);

const NOT_NOW_CODES = new Set([
  3, // UNEXPECTED_END_OF_FILE (a connection cut mid-request)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (a replica lost ZooKeeper)
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED (a shard is down)
  285, // TOO_FEW_LIVE_REPLICAS (insert_quorum)
  286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
  319, // UNKNOWN_STATUS_OF_INSERT
  999, // KEEPER_EXCEPTION
]);

const NETWORK_FAILURE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|Timeout error|timed out|other side closed/i;

export function serverCodeOf(error: Error): number | undefined {
  const match = /Code: (\d+)/.exec(error.message);
  return match === null ? undefined : Number(match[1]);
}

/** The error the store throws for a failed ClickHouse call. */
export function storeErrorOf(error: unknown): Error {
  if (!(error instanceof Error)) return new EngineUnavailableError(`ClickHouse failed: ${String(error)}`);
  const code = serverCodeOf(error);
  if (code !== undefined && QUERY_TIMEOUT_CODES.has(code)) {
    return new QueryTimeoutError(`the lookup ran past its time limit: ${error.message}`);
  }
  const networkCode = (error as NodeJS.ErrnoException).code ?? '';
  if (
    (code !== undefined && NOT_NOW_CODES.has(code)) ||
    NETWORK_FAILURE.test(`${networkCode} ${error.message}`)
  ) {
    return new EngineUnavailableError(`ClickHouse is unavailable: ${error.message.slice(0, 300)}`);
  }
  return error;
}
