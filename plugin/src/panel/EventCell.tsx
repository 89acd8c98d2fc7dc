/*
 * One cell of an event row: the event time, or a value that, for lookup-field columns, is a
 * button filtering the dashboard on it.
 */
import { css, cx } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { clearButtonStyles, useStyles2 } from '@grafana/ui';
import React from 'react';
import { PanelSelectors } from '../components/selectors';
import type { EventRow } from './event-rows';
import { SeverityBadge } from './SeverityBadge';
import { type EventColumn, isFilterableColumn } from './types';
import type { ValueFilter } from './use-value-filter';

interface Props {
  row: EventRow;
  column: EventColumn;
  timeZone: string;
  /** Whether this cell carries the row's error or insight badge. */
  showBadge: boolean;
  /** Buttons of rows other than the focused one stay out of the tab order (roving focus). */
  tabbable: boolean;
  onFilter: ValueFilter;
}

function CellValue({ row, column, timeZone, tabbable, onFilter }: Omit<Props, 'showBadge'>) {
  const styles = useStyles2(getStyles);
  if (column === 'eventTime') {
    if (row.time === undefined) {
      return null;
    }
    return (
      <time className={styles.text} dateTime={new Date(row.time).toISOString()}>
        {dateTimeFormat(row.time, { timeZone })}
      </time>
    );
  }
  const value = row.values[column];
  if (value === undefined) {
    return null;
  }
  if (!isFilterableColumn(column)) {
    return (
      <span className={styles.text} title={value}>
        {value}
      </span>
    );
  }
  return (
    <button
      type="button"
      className={styles.filterButton}
      title={`Filter by ${value}`}
      aria-label={PanelSelectors.filterBy(column, value)}
      tabIndex={tabbable ? 0 : -1}
      onClick={() => onFilter(column, value)}
    >
      {value}
    </button>
  );
}

export function EventCell({ showBadge, ...props }: Props) {
  const styles = useStyles2(getStyles);
  return (
    <div role="cell" className={styles.cell}>
      <CellValue {...props} />
      {showBadge && <SeverityBadge row={props.row} />}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => {
  const ellipsis = css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 });
  return {
    cell: css({
      display: 'flex',
      alignItems: 'center',
      gap: theme.spacing(1),
      minWidth: 0,
      padding: theme.spacing(0.5, 1),
    }),
    text: ellipsis,
    filterButton: cx(
      clearButtonStyles(theme),
      ellipsis,
      css({
        textAlign: 'left',
        borderRadius: theme.shape.radius.default,
        '&:hover': { color: theme.colors.text.link, textDecoration: 'underline' },
        '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: '1px' },
      })
    ),
  };
};
