/*
 * The attributes of a backfilled call's span: what the demo services' audit adapters set on the
 * server span of the same call (see recordAuditAttributes and finishHttpCall in the package), with
 * the package's attribute constants, so the collector makes the same record from either. Only the
 * caller's identity is not rebuilt here: it comes from the services' own identity resolver.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@crumbtrail/instrumentation/attributes';
import { isReadOnlyHttpMethod } from '@crumbtrail/instrumentation';
import type { AuditIdentity, AuditResource } from '@crumbtrail/instrumentation';
import { EVENT_SOURCES } from '../directory/account.js';
import type { ApiCall, CallOutcome } from '../traffic/api-calls.js';
import { succeeded } from '../traffic/api-calls.js';
import { specOf } from '../traffic/api-catalog.js';

/** The address the services see every call come from: the proxy in front of them (X-Forwarded-For names the client). */
export const PROXY_ADDRESS = '127.0.0.1';

export interface BackfilledCall {
  call: ApiCall;
  outcome: CallOutcome;
  /** What the services' identity resolver makes of the caller's credential. */
  identity: AuditIdentity | undefined;
  consoleSession: boolean;
  sourceIp: string;
  userAgent: string;
  requestId: string;
}

function setIfDefined(attributes: Attributes, key: string, value: string | undefined): void {
  if (value !== undefined) attributes[key] = value;
}

function addIdentity(attributes: Attributes, identity: AuditIdentity): void {
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_TYPE, identity.type);
  setIfDefined(attributes, A.ATTR_USER_NAME, identity.userName);
  setIfDefined(attributes, A.ATTR_USER_ID, identity.principalId);
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ARN, identity.arn);
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID, identity.accountId);
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID, identity.accessKeyId);
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY, identity.invokedBy);
  if (identity.sessionContext !== undefined) {
    attributes[A.ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT] = JSON.stringify(identity.sessionContext);
  }
}

function addResources(attributes: Attributes, resources: readonly AuditResource[]): void {
  if (resources.length === 0) return;
  // Parallel arrays, as the adapters write them: attributes cannot hold arrays of objects.
  attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES] = resources.map((resource) => resource.type);
  attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES] = resources.map((resource) => resource.name ?? '');
  if (resources.some((resource) => resource.arn !== undefined)) {
    attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ARNS] = resources.map((resource) => resource.arn ?? '');
  }
}

export function auditSpanAttributes(backfilled: BackfilledCall): Attributes {
  const { call, outcome } = backfilled;
  const spec = specOf(call);
  const attributes: Attributes = {
    [A.ATTR_CRUMBTRAIL_EVENT_NAME]: call.api,
    [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: EVENT_SOURCES[spec.service],
    [A.ATTR_CRUMBTRAIL_READ_ONLY]: isReadOnlyHttpMethod(spec.method),
  };
  if (spec.eventCategory !== undefined) attributes[A.ATTR_CRUMBTRAIL_EVENT_CATEGORY] = spec.eventCategory;
  if (backfilled.identity !== undefined) addIdentity(attributes, backfilled.identity);
  addResources(attributes, spec.resources?.(call, outcome) ?? []);
  const parameters = spec.requestParameters?.(call);
  if (parameters !== undefined) attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS] = JSON.stringify(parameters);
  const elements = succeeded(outcome) ? spec.responseElements?.(call, outcome) : undefined;
  if (elements !== undefined) attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS] = JSON.stringify(elements);
  attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID] = backfilled.requestId;
  attributes[A.ATTR_CLIENT_ADDRESS] = backfilled.sourceIp;
  attributes[A.ATTR_USER_AGENT_ORIGINAL] = backfilled.userAgent;
  if (backfilled.consoleSession) attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION] = true;
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_ERROR_CODE, outcome.errorCode);
  setIfDefined(attributes, A.ATTR_CRUMBTRAIL_ERROR_MESSAGE, outcome.errorMessage);
  // What the adapters add on a server span they started themselves.
  attributes[A.ATTR_NETWORK_PEER_ADDRESS] = PROXY_ADDRESS;
  attributes[A.ATTR_HTTP_ROUTE] = spec.route;
  attributes[A.ATTR_HTTP_REQUEST_METHOD] = spec.method;
  attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = outcome.status;
  return attributes;
}

/** The span's name, as the adapters name the server span: method and route template. */
export function auditSpanName(call: ApiCall): string {
  const spec = specOf(call);
  return `${spec.method} ${spec.route}`;
}
