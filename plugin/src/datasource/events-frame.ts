/*
 * Records → one frame that renders well in Table and Logs panels (Grafana's logs-frame fields
 * first) and in the event-history panel, with data links to the single event and to its trace.
 */
import { createDataFrame, type DataFrame, DataFrameType, type DataLink, type Field, FieldType } from '@grafana/data';
import { apiOf, type AuditRecord, callerName, resourceLabel } from '../shared/cloudtrail-record';
import {
  EVENTS_FRAME_MARKER,
  EventField,
  SEVERITY_ERROR,
  SEVERITY_INFO,
  SEVERITY_INSIGHT,
} from '../shared/event-frame';
import { type AuditQuery, QueryType } from '../types';

export interface EventLinks {
  datasourceUid: string;
  datasourceName: string;
  traceDatasourceUid?: string;
}

interface InsightExtension {
  insight?: { summary?: string };
}

/** "John CreateUser User/Mary", plus the error code of a failed call. */
export function summaryLine(record: AuditRecord): string {
  if (record.insightDetails !== undefined) {
    const details = record.insightDetails;
    const summary = (record.crumbtrail as InsightExtension | undefined)?.insight?.summary;
    const head = `Insight ${details.state}: ${details.insightType} on ${details.eventName}`;
    return summary === undefined ? head : `${head}: ${summary}`;
  }
  const parts = [callerName(record) ?? 'unknown caller', record.eventName ?? 'unknown event', resourceLabel(record)];
  const line = parts.filter((part) => part !== undefined).join(' ');
  return record.errorCode === undefined ? line : `${line} failed: ${record.errorCode}`;
}

function severity(record: AuditRecord): string {
  if (record.insightDetails !== undefined) {
    return SEVERITY_INSIGHT;
  }
  return record.errorCode === undefined ? SEVERITY_INFO : SEVERITY_ERROR;
}

/** The lookup attributes of a record, named as the lookup fields so a label filters on itself. */
function labels(record: AuditRecord): Record<string, string> {
  const resource = record.resources?.[0];
  const entries: Array<[string, string | undefined]> = [
    ['eventSource', apiOf(record).eventSource],
    ['eventName', apiOf(record).eventName],
    ['username', callerName(record)],
    ['resourceType', resource?.type],
    ['resourceName', resource?.name ?? resource?.ARN],
    ['readOnly', record.readOnly === undefined ? undefined : String(record.readOnly)],
    ['errorCode', record.errorCode],
    ['sourceIPAddress', record.sourceIPAddress],
    ['accessKeyId', record.userIdentity?.accessKeyId],
    ['eventCategory', record.eventCategory],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function internalLink(title: string, datasourceUid: string, datasourceName: string, query: unknown): DataLink {
  return { title, url: '', internal: { datasourceUid, datasourceName, query } };
}

function eventLink(links: EventLinks): DataLink {
  const query: AuditQuery = {
    refId: 'A',
    queryType: QueryType.Events,
    filters: { eventId: ['${__value.raw}'] },
    maxResults: 1,
  };
  return internalLink('Show this event', links.datasourceUid, links.datasourceName, query);
}

function traceLinks(links: EventLinks): DataLink[] {
  if (links.traceDatasourceUid === undefined || links.traceDatasourceUid === '') {
    return [];
  }
  // Tempo's query model; Jaeger and Zipkin read the trace id from `query` too.
  const query = { refId: 'A', queryType: 'traceql', query: '${__value.raw}' };
  return [internalLink('Open trace', links.traceDatasourceUid, links.traceDatasourceUid, query)];
}

function stringField(name: string, values: Array<string | undefined>, config: Field['config'] = {}) {
  return { name, type: FieldType.string, values: values.map((value) => value ?? null), config };
}

export function eventsFrame(refId: string, records: AuditRecord[], links: EventLinks): DataFrame {
  const column = (read: (record: AuditRecord) => string | undefined) => records.map(read);
  return createDataFrame({
    refId,
    name: 'events',
    meta: {
      type: DataFrameType.LogLines,
      preferredVisualisationType: 'logs',
      custom: { marker: EVENTS_FRAME_MARKER },
    },
    fields: [
      {
        name: EventField.Timestamp,
        type: FieldType.time,
        values: records.map((record) => Date.parse(record.eventTime)),
        config: { displayName: 'Event time' },
      },
      stringField(EventField.Body, records.map(summaryLine), { displayName: 'Summary' }),
      stringField(EventField.Severity, records.map(severity)),
      stringField(
        EventField.Id,
        column((record) => record.eventID),
        { displayName: 'Event ID', links: [eventLink(links)] }
      ),
      { name: EventField.Labels, type: FieldType.other, values: records.map(labels), config: {} },
      stringField(
        EventField.EventName,
        column((record) => apiOf(record).eventName),
        { displayName: 'Event name' }
      ),
      stringField(
        EventField.EventSource,
        column((record) => apiOf(record).eventSource),
        { displayName: 'Event source' }
      ),
      stringField(EventField.Username, records.map(callerName), { displayName: 'User name' }),
      stringField(
        EventField.ResourceType,
        column((record) => record.resources?.[0]?.type),
        {
          displayName: 'Resource type',
        }
      ),
      stringField(
        EventField.ResourceName,
        column((record) => record.resources?.[0]?.name ?? record.resources?.[0]?.ARN),
        { displayName: 'Resource name' }
      ),
      stringField(
        EventField.SourceIPAddress,
        column((record) => record.sourceIPAddress),
        {
          displayName: 'Source IP address',
        }
      ),
      stringField(
        EventField.UserAgent,
        column((record) => record.userAgent),
        { displayName: 'User agent' }
      ),
      stringField(
        EventField.ErrorCode,
        column((record) => record.errorCode),
        { displayName: 'Error code' }
      ),
      stringField(
        EventField.ReadOnly,
        column((record) => (record.readOnly === undefined ? undefined : String(record.readOnly))),
        { displayName: 'Read only' }
      ),
      stringField(
        EventField.AccessKeyId,
        column((record) => record.userIdentity?.accessKeyId),
        {
          displayName: 'AWS access key',
        }
      ),
      stringField(
        EventField.EventCategory,
        column((record) => record.eventCategory),
        {
          displayName: 'Event category',
        }
      ),
      stringField(
        EventField.AwsRegion,
        column((record) => record.awsRegion),
        { displayName: 'AWS region' }
      ),
      stringField(
        EventField.TraceId,
        column((record) => record.crumbtrail?.traceId),
        {
          displayName: 'Trace ID',
          links: traceLinks(links),
        }
      ),
      stringField(
        EventField.Record,
        records.map((record) => JSON.stringify(record)),
        { displayName: 'Event record' }
      ),
    ],
  });
}
