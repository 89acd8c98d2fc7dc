/*
 * What a call was, before its record is assembled, and the outcome rules shared by the two ways
 * of learning it (crumbtrail attributes, or a plain server span).
 */
import { ATTR_ERROR_TYPE } from '@crumbtrail/instrumentation/attributes';
import type { Attributes } from '../otlp/decoded-span.js';
import { readString } from './attribute-readers.js';

export interface CallDescription {
  eventName: string;
  /** undefined → the resource's service.name. */
  eventSource: string | undefined;
  readOnly: boolean;
  errorCode: string | undefined;
  origin: 'instrumentation' | 'http-span' | 'rpc-span';
}

/** CloudTrail's generic code for a failure the service did not name. */
export const UNNAMED_FAILURE_CODE = 'InternalFailure';

/**
 * error.type when it names the error (an exception class or code). HTTP instrumentations put the
 * numeric status there, and "_OTHER" means unknown: neither says more than the status code.
 */
export function namedErrorType(attributes: Attributes): string | undefined {
  const errorType = readString(attributes, ATTR_ERROR_TYPE);
  return errorType === undefined || /^\d+$/.test(errorType) || errorType === '_OTHER' ? undefined : errorType;
}
