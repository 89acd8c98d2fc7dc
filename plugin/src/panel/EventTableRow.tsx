/*
 * One event as a table row: the expand toggle, the chosen columns and, while expanded, the record.
 * The row is the virtualizer's item, so its measured height includes the expanded record.
 */
import { css, cx } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { IconButton, useStyles2 } from '@grafana/ui';
import React, { forwardRef, type KeyboardEvent, memo, useId } from 'react';
import { PanelSelectors } from '../components/selectors';
import { EventCell } from './EventCell';
import type { EventRow } from './event-rows';
import { RecordDetails } from './RecordDetails';
import type { EventColumn } from './types';
import type { ValueFilter } from './use-value-filter';

interface Props {
  row: EventRow;
  index: number;
  /** Offset from the top of the table, from the virtualizer. */
  start: number;
  columns: EventColumn[];
  /** Which column shows the error or insight badge. */
  badgeColumn: EventColumn;
  gridTemplate: string;
  expanded: boolean;
  /** The row that takes part in the tab order (roving focus); the others are reached by arrow keys. */
  tabbable: boolean;
  timeZone: string;
  onToggle: (key: string) => void;
  onFilter: ValueFilter;
  onNavigate: (event: KeyboardEvent<HTMLElement>, index: number) => void;
  onRowFocus: (index: number) => void;
}

export const EventTableRow = memo(
  forwardRef<HTMLDivElement, Props>(function EventTableRow(props, ref) {
    const { row, index, start, columns, badgeColumn, gridTemplate, expanded, tabbable, timeZone } = props;
    const { onToggle, onFilter, onNavigate, onRowFocus } = props;
    const styles = useStyles2(getStyles);
    const detailsId = useId();
    const canExpand = row.record !== undefined;

    const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
      // Enter and Space on a button inside the row belong to that button.
      const onRow = event.target === event.currentTarget;
      if (onRow && canExpand && (event.key === 'Enter' || event.key === ' ')) {
        event.preventDefault();
        onToggle(row.key);
        return;
      }
      onNavigate(event, index);
    };

    return (
      <div
        ref={ref}
        role="row"
        data-index={index}
        data-severity={row.severity}
        aria-rowindex={index + 2}
        aria-expanded={canExpand ? expanded : undefined}
        tabIndex={tabbable ? 0 : -1}
        className={cx(styles.row, styles[row.severity])}
        style={{ gridTemplateColumns: gridTemplate, transform: `translateY(${start}px)` }}
        onKeyDown={onKeyDown}
        onFocus={() => onRowFocus(index)}
      >
        <div role="cell" className={styles.toggleCell}>
          {canExpand && (
            <IconButton
              name={expanded ? 'angle-down' : 'angle-right'}
              aria-label={PanelSelectors.toggleRecord(row.summary)}
              aria-expanded={expanded}
              aria-controls={expanded ? detailsId : undefined}
              tabIndex={tabbable ? 0 : -1}
              onClick={() => onToggle(row.key)}
            />
          )}
        </div>
        {columns.map((column) => (
          <EventCell
            key={column}
            row={row}
            column={column}
            timeZone={timeZone}
            showBadge={column === badgeColumn}
            tabbable={tabbable}
            onFilter={onFilter}
          />
        ))}
        {expanded && row.record !== undefined && (
          <RecordDetails
            id={detailsId}
            record={row.record}
            colSpan={columns.length + 1}
            tabbable={tabbable}
            links={row.links()}
          />
        )}
      </div>
    );
  })
);

const getStyles = (theme: GrafanaTheme2) => {
  // Severity shows as a left border colour, next to the badge that says it in words.
  const marker = (color: string) => css({ borderLeftColor: color });
  return {
    row: css({
      position: 'absolute',
      top: 0,
      left: 0,
      width: '100%',
      display: 'grid',
      alignItems: 'center',
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      borderLeft: `3px solid transparent`,
      '&:hover': { background: theme.colors.action.hover },
      '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: '-2px' },
    }),
    info: css({}),
    error: marker(theme.colors.error.main),
    insight: marker(theme.colors.warning.main),
    toggleCell: css({
      display: 'flex',
      justifyContent: 'center',
    }),
  };
};
