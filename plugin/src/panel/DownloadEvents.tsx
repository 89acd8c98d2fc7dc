/*
 * The panel's "Download events" bar, as in CloudTrail's console: CSV or JSON of every event the
 * panel's queries match in the time range (not only the rows shown), with a running count while
 * the pages arrive, a cancel button, and a note when the cap cut the download short.
 */
import { css } from '@emotion/css';
import type { DataQueryRequest, GrafanaTheme2 } from '@grafana/data';
import { Button, useStyles2 } from '@grafana/ui';
import React from 'react';
import { PanelSelectors } from '../components/selectors';
import { MAX_EXPORT_EVENTS } from '../datasource/event-export';
import type { DownloadFile } from './save-file';
import { type DownloadState, useEventDownload } from './use-event-download';

export const DOWNLOAD_BAR_HEIGHT = 32;

const count = (events: number) => `${events.toLocaleString('en-US')} event${events === 1 ? '' : 's'}`;

function statusText(status: DownloadState, cap: number): string {
  switch (status.state) {
    case 'idle':
      return '';
    case 'running':
      return `Downloading ${status.format.toUpperCase()}… ${count(status.events)}`;
    case 'done':
      return status.truncated
        ? `Downloaded the first ${count(status.events)} (the cap is ${cap.toLocaleString('en-US')}): narrow the time range or filters for the rest`
        : `Downloaded ${count(status.events)} as ${status.format.toUpperCase()}`;
    case 'cancelled':
      return 'Download cancelled';
    case 'error':
      return `Download failed: ${status.message}`;
  }
}

interface Props {
  request: DataQueryRequest | undefined;
  /** Tests and the harness may cap lower than MAX_EXPORT_EVENTS, or catch the file. */
  maxEvents?: number;
  save?: (file: DownloadFile) => void;
}

export function DownloadEvents({ request, maxEvents, save }: Props) {
  const styles = useStyles2(getStyles);
  const { status, start, cancel } = useEventDownload(request, {
    ...(maxEvents === undefined ? {} : { maxEvents }),
    ...(save === undefined ? {} : { save }),
  });
  const running = status.state === 'running';
  return (
    <div className={styles.bar} style={{ height: DOWNLOAD_BAR_HEIGHT }}>
      <span
        className={status.state === 'error' ? styles.error : styles.status}
        role="status"
        aria-label={PanelSelectors.downloadStatus}
      >
        {statusText(status, Math.min(maxEvents ?? MAX_EXPORT_EVENTS, MAX_EXPORT_EVENTS))}
      </span>
      {running ? (
        <Button
          size="sm"
          variant="secondary"
          fill="text"
          icon="times"
          onClick={cancel}
          aria-label={PanelSelectors.cancelDownload}
        >
          Cancel
        </Button>
      ) : (
        <>
          <Button
            size="sm"
            variant="secondary"
            fill="text"
            icon="download-alt"
            onClick={() => void start('csv')}
            aria-label={PanelSelectors.downloadCsv}
            tooltip="Every event the queries match in the time range, not only the rows shown"
          >
            CSV
          </Button>
          <Button
            size="sm"
            variant="secondary"
            fill="text"
            icon="download-alt"
            onClick={() => void start('json')}
            aria-label={PanelSelectors.downloadJson}
            tooltip="Every event the queries match, as CloudTrail JSON ({ Records: [...] })"
          >
            JSON
          </Button>
        </>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  bar: css({
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'flex-end',
    gap: theme.spacing(1),
  }),
  status: css({
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  }),
  error: css({
    color: theme.colors.error.text,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
});
