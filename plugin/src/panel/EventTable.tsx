/*
 * The virtualized event table: a sticky header and only the rows in view (plus a few), so 10,000
 * events scroll smoothly. Rows are measured after rendering because an expanded row is taller.
 *
 * Keyboard: one row is in the tab order at a time (roving focus). Arrow keys, Page Up/Down and
 * Home/End move between rows; Enter or Space on a row expands it.
 */
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import {
  defaultRangeExtractor,
  measureElement,
  observeElementRect,
  type Range,
  type Rect,
  useVirtualizer,
  type Virtualizer,
} from '@tanstack/react-virtual';
import React, { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import { PanelSelectors } from '../components/selectors';
import type { EventRow } from './event-rows';
import { EventTableRow } from './EventTableRow';
import { COLUMN_LABELS, type EventColumn } from './types';
import type { ValueFilter } from './use-value-filter';

/** Estimated height of a collapsed row; the virtualizer corrects it by measuring. */
const ROW_HEIGHT = 33;
const HEADER_HEIGHT = 32;
/** Rows rendered beyond each edge of the view, so fast scrolling shows no blank gap. */
const OVERSCAN = 10;
const TOGGLE_WIDTH = '2.5rem';
const DEFAULT_MIN_WIDTH = '7rem';
const MIN_WIDTHS: Partial<Record<EventColumn, string>> = { eventTime: '11rem', userAgent: '12rem', id: '12rem' };

type RowVirtualizer = Virtualizer<HTMLDivElement, HTMLDivElement>;

/**
 * A row's measured height; its estimate while it has no layout (detached, or in jsdom), because a
 * height of 0 would make the virtualizer render every row.
 */
function measureRow(element: HTMLDivElement, entry: ResizeObserverEntry | undefined, instance: RowVirtualizer) {
  const size = measureElement(element, entry, instance);
  return size > 0 ? size : instance.options.estimateSize(instance.indexFromElement(element));
}

/** The row to focus for a navigation key, or undefined for other keys. */
function navigationTarget(key: string, index: number, count: number, pageSize: number): number | undefined {
  const targets: Record<string, number> = {
    ArrowDown: index + 1,
    ArrowUp: index - 1,
    PageDown: index + pageSize,
    PageUp: index - pageSize,
    Home: 0,
    End: count - 1,
  };
  const target = targets[key];
  return target === undefined ? undefined : Math.max(0, Math.min(count - 1, target));
}

interface Props {
  rows: EventRow[];
  columns: EventColumn[];
  width: number;
  height: number;
  timeZone: string;
  onFilter: ValueFilter;
}

export function EventTable({ rows, columns, width, height, timeZone, onFilter }: Props) {
  const styles = useStyles2(getStyles);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const [activeIndex, setActiveIndex] = useState(0);
  // A refresh may return fewer rows than the index of the row that had focus.
  const active = Math.min(activeIndex, rows.length - 1);
  const pendingFocus = useRef<number | null>(null);

  // Grafana passes the panel's size, so the table knows its viewport before (or without) layout.
  const panelSize = useRef<Rect>({ width, height });
  useEffect(() => {
    panelSize.current = { width, height };
  }, [width, height]);
  const observeRect = useCallback(
    (instance: RowVirtualizer, onRect: (rect: Rect) => void) =>
      observeElementRect(instance, (rect) => onRect(rect.height > 0 ? rect : panelSize.current)),
    []
  );

  // Stable callbacks: the virtualizer recomputes all positions when getItemKey changes.
  const getItemKey = useCallback((index: number) => rows[index].key, [rows]);
  const estimateSize = useCallback(() => ROW_HEIGHT, []);
  // The focused row stays rendered when scrolled away, so focus and the tab stop are not lost.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      return active < 0 || indexes.includes(active) ? indexes : [...indexes, active].sort((a, b) => a - b);
    },
    [active]
  );

  // Flags that React Compiler would skip this component; the plugin is not built with it, and the
  // rows are memoized by hand with stable props (measureElement and the virtualizer are stable).
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer<HTMLDivElement, HTMLDivElement>({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    getItemKey,
    rangeExtractor,
    overscan: OVERSCAN,
    // The sticky header sits above the first row, inside the scrolled element.
    paddingStart: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
    initialRect: { width, height },
    observeElementRect: observeRect,
    measureElement: measureRow,
  });

  const onToggle = useCallback((key: string) => {
    setExpanded((previous) => {
      const next = new Set(previous);
      if (!next.delete(key)) {
        next.add(key);
      }
      return next;
    });
  }, []);

  const pageSize = Math.max(1, Math.floor((height - HEADER_HEIGHT) / ROW_HEIGHT));
  const onNavigate = useCallback(
    (event: KeyboardEvent<HTMLElement>, index: number) => {
      const target = navigationTarget(event.key, index, rows.length, pageSize);
      if (target === undefined) {
        return;
      }
      event.preventDefault();
      if (target !== index) {
        pendingFocus.current = target;
        setActiveIndex(target);
        virtualizer.scrollToIndex(target);
      }
    },
    [rows.length, pageSize, virtualizer]
  );

  // Focus the row navigated to once it is rendered (the range extractor renders it).
  useEffect(() => {
    const index = pendingFocus.current;
    if (index === null) {
      return;
    }
    pendingFocus.current = null;
    // The virtualizer has scrolled it into view, below the sticky header.
    scrollRef.current
      ?.querySelector<HTMLElement>(`[role="row"][data-index="${index}"]`)
      ?.focus({ preventScroll: true });
  });

  const gridTemplate = [TOGGLE_WIDTH, ...columns.map((column) => `minmax(${minWidth(column)}, 1fr)`)].join(' ');
  const tableMinWidth = `calc(${[TOGGLE_WIDTH, ...columns.map(minWidth)].join(' + ')})`;
  const badgeColumn = columns.includes('eventName') ? 'eventName' : columns[0];

  return (
    <div ref={scrollRef} className={styles.scroller} style={{ width, height }}>
      <div
        role="table"
        aria-label={PanelSelectors.table}
        aria-rowcount={rows.length + 1}
        aria-colcount={columns.length + 1}
        className={styles.table}
        style={{ height: virtualizer.getTotalSize(), minWidth: tableMinWidth }}
      >
        <div role="rowgroup" className={styles.header}>
          <div role="row" aria-rowindex={1} className={styles.headerRow} style={{ gridTemplateColumns: gridTemplate }}>
            <div role="columnheader">
              <span className={styles.visuallyHidden}>Record</span>
            </div>
            {columns.map((column) => (
              <div role="columnheader" key={column} className={styles.headerCell}>
                {COLUMN_LABELS[column]}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup">
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            return (
              <EventTableRow
                key={item.key.toString()}
                ref={virtualizer.measureElement}
                row={row}
                index={item.index}
                start={item.start}
                columns={columns}
                badgeColumn={badgeColumn}
                gridTemplate={gridTemplate}
                expanded={expanded.has(row.key)}
                tabbable={item.index === active}
                timeZone={timeZone}
                onToggle={onToggle}
                onFilter={onFilter}
                onNavigate={onNavigate}
                onRowFocus={setActiveIndex}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

function minWidth(column: EventColumn): string {
  return MIN_WIDTHS[column] ?? DEFAULT_MIN_WIDTH;
}

const getStyles = (theme: GrafanaTheme2) => ({
  scroller: css({
    overflow: 'auto',
    position: 'relative',
  }),
  table: css({
    position: 'relative',
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  header: css({
    position: 'sticky',
    top: 0,
    // Above the rows, which are positioned (and so stacked) elements.
    zIndex: 1,
    background: theme.colors.background.primary,
  }),
  headerRow: css({
    display: 'grid',
    alignItems: 'center',
    height: HEADER_HEIGHT,
    borderBottom: `1px solid ${theme.colors.border.medium}`,
    // Lines the header text up with the cells, which sit right of the rows' severity border.
    borderLeft: '3px solid transparent',
  }),
  headerCell: css({
    padding: theme.spacing(0, 1),
    fontWeight: theme.typography.fontWeightMedium,
    color: theme.colors.text.secondary,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  }),
  visuallyHidden: css({
    position: 'absolute',
    width: 1,
    height: 1,
    overflow: 'hidden',
    clip: 'rect(0 0 0 0)',
    whiteSpace: 'nowrap',
  }),
});
