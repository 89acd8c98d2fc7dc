/*
 * What the traffic generator knows about each API, as an SDK would: which service serves it, its
 * HTTP method and route, and how a call is sent. The backfill also reads from here what the
 * service's audit options record for a call (read-only, category, resources, request parameters,
 * response elements), so the history it writes looks like the services' own events; the demo's
 * tests compare the two.
 */
import type { AuditResource, EventCategory } from '@crumbtrail/instrumentation';
import type { ServiceName } from '../directory/account.js';
import { bucketArn, instanceArn, objectArn, userArn } from '../directory/account.js';
import type { ApiCall, ApiCallOf, ApiName, CallOutcome } from './api-calls.js';

export interface ApiSpec<Call extends ApiCall> {
  service: ServiceName;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route template, as the service's router names it (the span's http.route). */
  route: string;
  /** The status a successful call answers with. */
  successStatus: number;
  eventCategory?: EventCategory;
  path(call: Call): string;
  /** The request body: JSON for objects, as is for strings. */
  body?(call: Call): unknown;
  resources?(call: Call, outcome: CallOutcome): AuditResource[];
  requestParameters?(call: Call): Record<string, unknown>;
  /** The response body the service records as responseElements (successful writes only). */
  responseElements?(call: Call, outcome: CallOutcome): unknown;
}

type Catalog = { [Name in ApiName]: ApiSpec<ApiCallOf<Name>> };

const segment = encodeURIComponent;

function userResources(userName: string): AuditResource[] {
  return [{ type: 'User', name: userName, arn: userArn(userName) }];
}

function objectResources(call: { bucket: string; key: string }): AuditResource[] {
  return [
    { type: 'Bucket', name: call.bucket, arn: bucketArn(call.bucket) },
    { type: 'Object', name: call.key, arn: objectArn(call.bucket, call.key) },
  ];
}

const OBJECT_ROUTE = '/buckets/:bucket/objects/:key';
const objectPath = (call: { bucket: string; key: string }): string =>
  `/buckets/${segment(call.bucket)}/objects/${segment(call.key)}`;

export const API_CATALOG: Catalog = {
  CreateUser: {
    service: 'iam',
    method: 'POST',
    route: '/users',
    successStatus: 201,
    path: () => '/users',
    body: (call) => ({ userName: call.userName }),
    resources: (call) => userResources(call.userName),
    requestParameters: (call) => ({ userName: call.userName }),
    responseElements: (call) => ({
      user: { userName: call.userName, arn: userArn(call.userName), path: '/' },
    }),
  },
  DeleteUser: {
    service: 'iam',
    method: 'DELETE',
    route: '/users/:userName',
    successStatus: 204,
    path: (call) => `/users/${segment(call.userName)}`,
    resources: (call) => userResources(call.userName),
    requestParameters: (call) => ({ userName: call.userName }),
  },
  AttachUserPolicy: {
    service: 'iam',
    method: 'POST',
    route: '/users/:userName/attached-policies',
    successStatus: 204,
    path: (call) => `/users/${segment(call.userName)}/attached-policies`,
    body: (call) => ({ policyArn: call.policyArn }),
    resources: (call) => [
      ...userResources(call.userName),
      {
        type: 'Policy',
        name: call.policyArn.slice(call.policyArn.lastIndexOf('/') + 1),
        arn: call.policyArn,
      },
    ],
    requestParameters: (call) => ({ userName: call.userName, policyArn: call.policyArn }),
  },
  ListUsers: { service: 'iam', method: 'GET', route: '/users', successStatus: 200, path: () => '/users' },
  GetUser: {
    service: 'iam',
    method: 'GET',
    route: '/users/:userName',
    successStatus: 200,
    path: (call) => `/users/${segment(call.userName)}`,
    resources: (call) => userResources(call.userName),
  },
  RunInstances: {
    service: 'compute',
    method: 'POST',
    route: '/instances',
    successStatus: 201,
    path: () => '/instances',
    body: (call) => ({ imageId: call.imageId, instanceType: call.instanceType }),
    // Only a launched instance has an id to name.
    resources: (_call, outcome) =>
      outcome.instanceId === undefined
        ? []
        : [{ type: 'Instance', name: outcome.instanceId, arn: instanceArn(outcome.instanceId) }],
    requestParameters: (call) => ({ imageId: call.imageId, instanceType: call.instanceType }),
    responseElements: (call, outcome) => ({
      instanceId: outcome.instanceId,
      instanceType: call.instanceType,
      imageId: call.imageId,
      state: 'pending',
    }),
  },
  TerminateInstances: {
    service: 'compute',
    method: 'DELETE',
    route: '/instances/:instanceId',
    successStatus: 200,
    path: (call) => `/instances/${segment(call.instanceId)}`,
    resources: (call) => [{ type: 'Instance', name: call.instanceId, arn: instanceArn(call.instanceId) }],
    requestParameters: (call) => ({ instanceId: call.instanceId }),
  },
  DescribeInstances: {
    service: 'compute',
    method: 'GET',
    route: '/instances',
    successStatus: 200,
    path: () => '/instances',
  },
  ListBuckets: {
    service: 'storage',
    method: 'GET',
    route: '/buckets',
    successStatus: 200,
    path: () => '/buckets',
  },
  PutObject: {
    service: 'storage',
    method: 'PUT',
    route: OBJECT_ROUTE,
    successStatus: 200,
    eventCategory: 'Data',
    path: objectPath,
    body: (call) => call.content,
    resources: objectResources,
    requestParameters: (call) => ({ bucketName: call.bucket, key: call.key }),
  },
  GetObject: {
    service: 'storage',
    method: 'GET',
    route: OBJECT_ROUTE,
    successStatus: 200,
    eventCategory: 'Data',
    path: objectPath,
    resources: objectResources,
  },
  DeleteObject: {
    service: 'storage',
    method: 'DELETE',
    route: OBJECT_ROUTE,
    successStatus: 204,
    eventCategory: 'Data',
    path: objectPath,
    resources: objectResources,
    requestParameters: (call) => ({ bucketName: call.bucket, key: call.key }),
  },
};

/** The spec of a call's API, typed for that call. */
export function specOf<Call extends ApiCall>(call: Call): ApiSpec<Call> {
  return API_CATALOG[call.api] as unknown as ApiSpec<Call>;
}
