/*
 * What a demo service would answer to a call, without calling it: the backfill's model of the
 * services, following their rules in their order (authorize, then look the resource up) and
 * answering with their errors. The backfill's world is the only client, so it knows exactly what
 * exists.
 */
import { bucketArn, instanceArn, objectArn, userArn } from '../directory/account.js';
import type { DemoCaller } from '../directory/callers.js';
import { isAllowed } from '../directory/callers.js';
import type { ServiceError } from '../directory/service-errors.js';
import { accessDenied, alreadyExists, notFound } from '../directory/service-errors.js';
import type { ApiCall, CallOutcome } from '../traffic/api-calls.js';
import { specOf } from '../traffic/api-catalog.js';
import type { SeededRandom } from '../traffic/seeded-random.js';
import type { World } from '../traffic/world.js';

/** The resource a service checks the caller's permission on (named in AccessDenied messages). */
function authorizedResourceArn(call: ApiCall): string {
  switch (call.api) {
    case 'CreateUser':
    case 'DeleteUser':
    case 'AttachUserPolicy':
    case 'GetUser':
      return userArn(call.userName);
    case 'ListUsers':
      return userArn('*');
    case 'RunInstances':
    case 'DescribeInstances':
      return instanceArn('*');
    case 'TerminateInstances':
      return instanceArn(call.instanceId);
    case 'ListBuckets':
      return bucketArn('*');
    case 'PutObject':
    case 'GetObject':
    case 'DeleteObject':
      return objectArn(call.bucket, call.key);
  }
}

/** The failure a service answers a permitted call with, if any. */
function resourceFailure(call: ApiCall, world: World): ServiceError | undefined {
  switch (call.api) {
    case 'CreateUser':
      return world.users.has(call.userName) ? alreadyExists('User', call.userName) : undefined;
    case 'DeleteUser':
    case 'AttachUserPolicy':
    case 'GetUser':
      return world.users.has(call.userName) ? undefined : notFound('User', call.userName);
    case 'TerminateInstances':
      return world.instances.has(call.instanceId) ? undefined : notFound('Instance', call.instanceId);
    case 'PutObject':
    case 'GetObject':
    case 'DeleteObject': {
      const keys = world.objects.get(call.bucket);
      if (keys === undefined) return notFound('Bucket', call.bucket);
      return call.api === 'PutObject' || keys.includes(call.key)
        ? undefined
        : notFound('Object', `${call.bucket}/${call.key}`);
    }
    default:
      return undefined;
  }
}

function failed(error: ServiceError): CallOutcome {
  return { status: error.status, errorCode: error.code, errorMessage: error.message };
}

/** `serviceRandom` stands for the service's own randomness (new instance ids). */
export function predictOutcome(
  call: ApiCall,
  caller: DemoCaller,
  world: World,
  serviceRandom: SeededRandom,
): CallOutcome {
  const spec = specOf(call);
  const action = `${spec.service}:${call.api}`;
  if (!isAllowed(caller, action)) {
    return failed(accessDenied(caller.identity.arn ?? caller.userName, action, authorizedResourceArn(call)));
  }
  const failure = resourceFailure(call, world);
  if (failure !== undefined) return failed(failure);
  if (call.api === 'RunInstances')
    return { status: spec.successStatus, instanceId: `i-0${serviceRandom.hex(16)}` };
  return { status: spec.successStatus };
}
