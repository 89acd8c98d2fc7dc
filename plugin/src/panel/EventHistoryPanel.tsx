/*
 * The event-history panel: the events frames of the panel's queries as one table, newest first,
 * like CloudTrail's event history. It renders what the queries returned; "Download events" below
 * the table asks the queries' datasource for every matching event (DownloadEvents.tsx).
 */
import { css } from '@emotion/css';
import { type GrafanaTheme2, LoadingState, type PanelProps } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import React, { useMemo } from 'react';
import { DOWNLOAD_BAR_HEIGHT, DownloadEvents } from './DownloadEvents';
import { eventRows, isEventsFrame } from './event-rows';
import { EventTable } from './EventTable';
import { DEFAULT_COLUMNS, DEFAULT_OPTIONS, EVENT_COLUMNS, type EventColumn, type Options } from './types';
import { useValueFilter } from './use-value-filter';

/** The saved columns that still exist, in the saved order; the defaults when none are left. */
function visibleColumns(saved: readonly string[] | undefined): EventColumn[] {
  const known = (saved ?? []).filter((column): column is EventColumn =>
    (EVENT_COLUMNS as readonly string[]).includes(column)
  );
  return known.length > 0 ? known : DEFAULT_COLUMNS;
}

export function EventHistoryPanel({ data, options, width, height, timeZone }: PanelProps<Options>) {
  const styles = useStyles2(getStyles);
  const series = data.series;
  const rows = useMemo(() => eventRows(series), [series]);
  const columns = useMemo(() => visibleColumns(options.columns), [options.columns]);
  const onFilter = useValueFilter(options.valueClick ?? DEFAULT_OPTIONS.valueClick);

  if (rows.length > 0) {
    const tableHeight = Math.max(0, height - DOWNLOAD_BAR_HEIGHT);
    return (
      <div style={{ width, height }}>
        <EventTable
          rows={rows}
          columns={columns}
          width={width}
          height={tableHeight}
          timeZone={timeZone}
          onFilter={onFilter}
        />
        {/* Below the table: the rows stay first in the tab order. */}
        <DownloadEvents request={data.request} />
      </div>
    );
  }
  // The panel header shows the loading indicator; an empty-state text would flash before results.
  if (data.state === LoadingState.Loading && series.length === 0) {
    return null;
  }
  const otherFrames = series.length > 0 && !series.some(isEventsFrame);
  return (
    <div className={styles.empty} style={{ width, height }}>
      <p className={styles.message}>No events in this time range</p>
      {otherFrames && (
        <p className={styles.hint}>
          The queries return no events. Choose the query type <strong>Events</strong> of the crumbtrail datasource to
          list events here.
        </p>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  empty: css({
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
    gap: theme.spacing(1),
    padding: theme.spacing(2),
    textAlign: 'center',
  }),
  message: css({
    margin: 0,
    color: theme.colors.text.secondary,
    fontSize: theme.typography.h5.fontSize,
  }),
  hint: css({
    margin: 0,
    maxWidth: '40rem',
    color: theme.colors.text.secondary,
  }),
});
