export { startCollector } from './collector-service.js';
export type { RunningCollector } from './collector-service.js';
export { DEFAULT_CONFIG } from './config.js';
export type { CollectorConfig } from './config.js';
export type { CloudTrailRecord } from './events/cloudtrail-record.js';
export type { EventStore, EventFilter, LookupField } from './store/event-store.js';
export { LOOKUP_FIELDS } from './store/event-store.js';
