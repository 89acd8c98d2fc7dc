/*
 * Comparing a backfilled event with a live one: the same fields, of the same types, and the same
 * values wherever the value does not depend on the moment (ids, times, generated names).
 */
import type { DemoEvent } from './collector-queries.js';

/** Every leaf's path and type, e.g. "userIdentity.accessKeyId:string", "resources.0.ARN:string". */
export function recordShape(record: unknown, path = ''): string[] {
  if (record === null || typeof record !== 'object')
    return [`${path}:${record === null ? 'null' : typeof record}`];
  return Object.entries(record)
    .flatMap(([key, value]) => recordShape(value, path === '' ? key : `${path}.${key}`))
    .sort();
}

/** The fields that are the same for the same kind of call by the same caller. */
export function stableFields(event: DemoEvent): Record<string, unknown> {
  return {
    eventSource: event.eventSource,
    eventName: event.eventName,
    readOnly: event.readOnly,
    eventType: event.eventType,
    eventCategory: event.eventCategory,
    managementEvent: event.managementEvent,
    awsRegion: event.awsRegion,
    recipientAccountId: event.recipientAccountId,
    userIdentity: event.userIdentity,
    userAgent: event.userAgent,
    sourceIPAddress: event.sourceIPAddress,
    sessionCredentialFromConsole: event.sessionCredentialFromConsole,
    errorCode: event.errorCode,
    resourceTypes: event.resources?.map((resource) => resource.type),
    requestParameterNames: Object.keys(event.requestParameters ?? {}).sort(),
    serviceName: event.crumbtrail.serviceName,
    serviceVersion: event.crumbtrail.serviceVersion,
    peerAddress: event.crumbtrail.peerAddress,
    httpStatusCode: event.crumbtrail.httpStatusCode,
  };
}
