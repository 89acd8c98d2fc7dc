/*
 * What the traffic generator believes exists in the services: users, instances (and who launched
 * them), objects. Callers pick their targets from it, so that most calls succeed and the ones that
 * fail (NotFound) fail because the caller meant them to. It learns only from the outcomes of the
 * calls it made, as any client would.
 */
import { INITIAL_IAM_USERS, INITIAL_INSTANCES, INITIAL_OBJECTS } from '../directory/initial-state.js';
import type { ApiCall, CallOutcome } from './api-calls.js';
import { succeeded } from './api-calls.js';

const REMEMBERED_TERMINATIONS = 20;

export class World {
  readonly users = new Set<string>(INITIAL_IAM_USERS);
  /** Users John created by hand (contractors): the ones he deletes later. */
  readonly createdUsers: string[] = [];
  /** Running instances, oldest first, with who launched them. */
  readonly instances = new Map<string, string>(INITIAL_INSTANCES.map((i) => [i.instanceId, i.owner]));
  /** Instances terminated lately: what a stale script tries to terminate again. */
  readonly terminated: string[] = [];
  /** Keys per bucket, oldest first. */
  readonly objects = new Map<string, string[]>(
    Object.entries(INITIAL_OBJECTS).map(([b, keys]) => [b, [...keys]]),
  );
  private nextBuild = 1043;

  instancesOf(owner: string): string[] {
    return [...this.instances].filter(([, launchedBy]) => launchedBy === owner).map(([id]) => id);
  }

  keysIn(bucket: string): readonly string[] {
    return this.objects.get(bucket) ?? [];
  }

  /** The next CI build number, for artifact names. */
  takeBuildNumber(): number {
    return this.nextBuild++;
  }

  /** Learns from a call's outcome; failed calls change nothing. */
  apply(call: ApiCall, caller: string, outcome: CallOutcome): void {
    if (!succeeded(outcome)) return;
    switch (call.api) {
      case 'CreateUser':
        this.users.add(call.userName);
        if (caller === 'John' && call.userName !== 'Mary') this.createdUsers.push(call.userName);
        break;
      case 'DeleteUser':
        this.users.delete(call.userName);
        removeFrom(this.createdUsers, call.userName);
        break;
      case 'RunInstances':
        if (outcome.instanceId !== undefined) this.instances.set(outcome.instanceId, caller);
        break;
      case 'TerminateInstances':
        this.instances.delete(call.instanceId);
        this.terminated.push(call.instanceId);
        if (this.terminated.length > REMEMBERED_TERMINATIONS) this.terminated.shift();
        break;
      case 'PutObject': {
        const keys = this.objects.get(call.bucket);
        if (keys !== undefined && !keys.includes(call.key)) keys.push(call.key);
        break;
      }
      case 'DeleteObject':
        removeFrom(this.objects.get(call.bucket) ?? [], call.key);
        break;
      default:
        break;
    }
  }
}

function removeFrom(items: string[], item: string): void {
  const index = items.indexOf(item);
  if (index >= 0) items.splice(index, 1);
}
