import { isAuditQuery, queryProblems } from '../query-validation';

describe('saved query validation', () => {
  it('accepts each query type as the editors save it', () => {
    expect(
      isAuditQuery({ refId: 'A', queryType: 'events', filters: { eventName: ['CreateUser'] }, maxResults: 100 })
    ).toBe(true);
    expect(isAuditQuery({ refId: 'A', queryType: 'callRate', groupBy: 'username', maxSeries: 10, text: 'Mary' })).toBe(
      true
    );
    expect(
      isAuditQuery({ refId: 'A', queryType: 'insights', insightType: 'ApiErrorRateInsight', insightState: 'active' })
    ).toBe(true);
    expect(isAuditQuery({ refId: 'A', datasource: { type: 'crumbtrail-audit-datasource', uid: 'crumbtrail' } })).toBe(
      true
    );
  });

  it('names each problem', () => {
    expect(
      queryProblems({
        refId: '',
        queryType: 'logs',
        filters: { color: ['red'], username: 'John', eventName: [''] },
        maxResults: 20_000,
        groupBy: 'color',
        insightType: 'Other',
        filter: {},
      })
    ).toEqual([
      'unknown property "filter"',
      'refId must be a non-empty string',
      'queryType must be one of events, callRate, insights',
      expect.stringMatching(/^filters\.color: not a lookup field/),
      'filters.username must be a list of non-empty strings',
      'filters.eventName must be a list of non-empty strings',
      'maxResults must be a whole number from 1 to 10000',
      expect.stringMatching(/^groupBy must be one of eventName/),
      'insightType must be one of ApiCallRateInsight, ApiErrorRateInsight',
    ]);
    expect(queryProblems('events')).toEqual(['a query must be an object']);
  });

  it('lets the datasource accept properties Grafana adds', () => {
    expect(queryProblems({ refId: 'A', intervalMs: 1000 }, { allowUnknownProperties: true })).toEqual([]);
  });
});
