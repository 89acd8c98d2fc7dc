/*
 * Events from plain OpenTelemetry server spans (no crumbtrail attributes), for teams that already
 * trace with OpenTelemetry: enabled by --derive-from-http-spans. Only SERVER spans count: a client
 * span is a call this service made, not one it served.
 */
import * as A from '@crumbtrail/instrumentation/attributes';
import {
  deriveHttpEventName,
  errorCodeForHttpStatus,
  isReadOnlyHttpMethod,
} from '@crumbtrail/instrumentation/conventions';
import type { DecodedSpan } from '../otlp/decoded-span.js';
import { SpanKind, StatusCode } from '../otlp/decoded-span.js';
import { readFirstString, readInteger, readString } from './attribute-readers.js';
import type { CallDescription } from './call-description.js';
import { UNNAMED_FAILURE_CODE, namedErrorType } from './call-description.js';

/** RPC methods named like reads. RPC has no method verb, so this is the best evidence there is. */
const READ_ONLY_RPC_METHOD = /^(Get|List|Describe|Lookup|Search|Query|Read|Check|Head|Batch(Get|Read))/;

function deriveHttpCall(span: DecodedSpan, method: string): CallDescription {
  const route = readString(span.attributes, A.ATTR_HTTP_ROUTE);
  const status =
    readInteger(span.attributes, A.ATTR_HTTP_RESPONSE_STATUS_CODE) ??
    readInteger(span.attributes, A.ATTR_HTTP_STATUS_CODE_OLD);
  return {
    eventName: deriveHttpEventName(method, route),
    eventSource: undefined,
    readOnly: isReadOnlyHttpMethod(method),
    // Same precedence as for crumbtrail spans: a named error beats the bare status.
    errorCode:
      namedErrorType(span.attributes) ??
      errorCodeForHttpStatus(status) ??
      (span.statusCode === StatusCode.ERROR ? UNNAMED_FAILURE_CODE : undefined),
    origin: 'http-span',
  };
}

function deriveRpcCall(span: DecodedSpan, rpcMethod: string): CallDescription {
  // Newer conventions put the fully qualified "package.Service/Method" in rpc.method.
  const slash = rpcMethod.lastIndexOf('/');
  const method = slash >= 0 ? rpcMethod.slice(slash + 1) : rpcMethod;
  const service = slash >= 0 ? rpcMethod.slice(0, slash) : readString(span.attributes, A.ATTR_RPC_SERVICE);
  return {
    eventName: method,
    eventSource: service,
    readOnly: READ_ONLY_RPC_METHOD.test(method),
    errorCode:
      namedErrorType(span.attributes) ??
      (span.statusCode === StatusCode.ERROR ? UNNAMED_FAILURE_CODE : undefined),
    origin: 'rpc-span',
  };
}

/** The call a SERVER span describes, or undefined when it is neither an HTTP nor an RPC call. */
export function deriveServerSpanCall(span: DecodedSpan): CallDescription | undefined {
  if (span.kind !== SpanKind.SERVER) return undefined;
  const rpcMethod = readString(span.attributes, A.ATTR_RPC_METHOD);
  const rpcSystem = readFirstString(span.attributes, [A.ATTR_RPC_SYSTEM_NAME, A.ATTR_RPC_SYSTEM]);
  if (rpcMethod !== undefined && rpcSystem !== undefined) return deriveRpcCall(span, rpcMethod);
  const method = readFirstString(span.attributes, [A.ATTR_HTTP_REQUEST_METHOD, A.ATTR_HTTP_METHOD_OLD]);
  if (method !== undefined) return deriveHttpCall(span, method);
  return undefined;
}
