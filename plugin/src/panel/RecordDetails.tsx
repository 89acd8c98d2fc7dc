/*
 * The last cell of an expanded row: the full CloudTrail record, pretty-printed, with a copy button.
 * Rendered only while expanded, so the records of a big result are never pretty-printed up front.
 */
import { css } from '@emotion/css';
import type { Field, GrafanaTheme2, LinkModel } from '@grafana/data';
import { ClipboardButton, LinkButton, useStyles2 } from '@grafana/ui';
import React, { useMemo } from 'react';
import { PanelSelectors } from '../components/selectors';

interface Props {
  id: string;
  record: string;
  /** Columns the cell spans: all of them, the toggle column included. */
  colSpan: number;
  tabbable: boolean;
  /** The event's data links (single-event view, trace), shown beside the copy button. */
  links: Array<LinkModel<Field>>;
}

/** Two-space JSON as CloudTrail's console shows it; text that is not JSON is shown as it is. */
function prettyRecord(record: string): string {
  try {
    return JSON.stringify(JSON.parse(record), null, 2);
  } catch {
    return record;
  }
}

export function RecordDetails({ id, record, colSpan, tabbable, links }: Props) {
  const styles = useStyles2(getStyles);
  const pretty = useMemo(() => prettyRecord(record), [record]);
  return (
    <div role="cell" id={id} aria-colspan={colSpan} className={styles.cell}>
      <div className={styles.toolbar}>
        {links.map((link) => (
          <LinkButton
            key={`${link.title} ${link.href}`}
            href={link.href}
            target={link.target}
            onClick={link.onClick}
            icon={link.target === '_blank' ? 'external-link-alt' : 'link'}
            size="sm"
            variant="secondary"
            fill="outline"
            tabIndex={tabbable ? 0 : -1}
          >
            {link.title}
          </LinkButton>
        ))}
        <ClipboardButton
          icon="copy"
          size="sm"
          variant="secondary"
          fill="outline"
          tabIndex={tabbable ? 0 : -1}
          getText={() => pretty}
        >
          {PanelSelectors.copyRecord}
        </ClipboardButton>
      </div>
      <pre className={styles.json} data-testid={PanelSelectors.recordJson}>
        {pretty}
      </pre>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  cell: css({
    // A grid line of its own under the row's cells, across all columns.
    gridColumn: '1 / -1',
    padding: theme.spacing(1, 1, 1, 5),
    background: theme.colors.background.secondary,
    cursor: 'auto',
  }),
  toolbar: css({
    display: 'flex',
    justifyContent: 'flex-end',
    gap: theme.spacing(1),
    marginBottom: theme.spacing(1),
  }),
  json: css({
    margin: 0,
    padding: theme.spacing(1),
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.primary,
    background: theme.colors.background.canvas,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    // Long ARNs and user agents wrap instead of scrolling sideways inside a scrolling list.
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
  }),
});
