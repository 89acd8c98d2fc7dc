/* Counts of the live calls made, for the demo's periodic summary and its last words. */
import type { ServiceName } from '../directory/account.js';
import type { CallOutcome } from './api-calls.js';

export interface TrafficSummary {
  /** Calls a service answered, whatever the answer: each is one audit event. */
  answeredCalls: number;
  /** Answered calls that failed (403, 404…), by error code. */
  failedCalls: Record<string, number>;
  /** Calls no service answered (it was down or stopping): no event expected. */
  unansweredCalls: number;
  callsByService: Record<string, number>;
}

export class TrafficStats {
  private answered = 0;
  private unanswered = 0;
  private readonly failures = new Map<string, number>();
  private readonly byService = new Map<ServiceName, number>();

  recordAnswer(service: ServiceName, outcome: CallOutcome): void {
    this.answered++;
    this.byService.set(service, (this.byService.get(service) ?? 0) + 1);
    if (outcome.errorCode !== undefined) {
      this.failures.set(outcome.errorCode, (this.failures.get(outcome.errorCode) ?? 0) + 1);
    }
  }

  recordNoAnswer(): void {
    this.unanswered++;
  }

  summary(): TrafficSummary {
    return {
      answeredCalls: this.answered,
      failedCalls: Object.fromEntries(this.failures),
      unansweredCalls: this.unanswered,
      callsByService: Object.fromEntries(this.byService),
    };
  }
}
