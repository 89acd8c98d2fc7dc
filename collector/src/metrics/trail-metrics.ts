/*
 * The trail's Prometheus metrics: what was delivered, and when the last digest was written, so
 * that an alert can fire when delivery stalls (time() - crumbtrail_trail_last_digest_timestamp_seconds
 * well above the digest interval) or keeps failing (a full disk, a lost folder).
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { TrailObserver } from '../trail/trail-delivery.js';

export class TrailMetrics implements TrailObserver {
  private readonly logFiles: Counter;
  private readonly events: Counter;
  private readonly digests: Counter;
  private readonly failures: Counter;
  private readonly lastDigest: Gauge;

  constructor(registry: Registry) {
    this.logFiles = new Counter({
      name: 'crumbtrail_trail_log_files_total',
      help: 'CloudTrail log files delivered to the trail folder.',
      registers: [registry],
    });
    this.events = new Counter({
      name: 'crumbtrail_trail_events_delivered_total',
      help: 'Events delivered to trail log files.',
      registers: [registry],
    });
    this.digests = new Counter({
      name: 'crumbtrail_trail_digests_total',
      help: 'Signed digest files written.',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'crumbtrail_trail_delivery_failures_total',
      help: 'Trail deliveries that failed (retried at the next interval).',
      registers: [registry],
    });
    this.lastDigest = new Gauge({
      name: 'crumbtrail_trail_last_digest_timestamp_seconds',
      help: 'End time of the newest digest (epoch seconds).',
      registers: [registry],
    });
  }

  logFileDelivered(events: number): void {
    this.logFiles.inc();
    this.events.inc(events);
  }

  digestWritten(endMs: number): void {
    this.digests.inc();
    this.lastDigest.set(endMs / 1000);
  }

  chainResumed(lastDigestEndMs: number): void {
    this.lastDigest.set(lastDigestEndMs / 1000);
  }

  deliveryFailed(): void {
    this.failures.inc();
  }
}
