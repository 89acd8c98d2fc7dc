/* What the built-plugin host page (browser) and its server and test (Node) agree on. */
export const DIST_HOST = {
  datasourceId: 'crumbtrail-audit-datasource',
  panelId: 'crumbtrail-eventhistory-panel',
  /** The datasource instance's uid: its routes are /api/datasources/proxy/uid/<uid>/<route path>/… */
  datasourceUid: 'crumbtrail-dist',
  /** The audit story's time range, 2026-03-02 08:00–10:30 UTC. */
  fromMs: Date.parse('2026-03-02T08:00:00.000Z'),
  toMs: Date.parse('2026-03-02T10:30:00.000Z'),
} as const;
