/*
 * Call rate by event name over the page's time range, as a Grafana time-series panel shows it: the
 * real datasource's `callRate` query grouped by eventName, drawn by @grafana/ui's uPlot-based
 * TimeSeries, with the insights as Start→End regions on it (insight-regions.tsx).
 */
import { css } from '@emotion/css';
import {
  applyFieldOverrides,
  type DataFrame,
  type FieldConfig,
  FieldColorModeId,
  FieldType,
  type GrafanaTheme2,
  LoadingState,
  rangeUtil,
} from '@grafana/data';
import { toDataQueryError } from '@grafana/runtime';
import {
  GraphDrawStyle,
  GraphGradientMode,
  LegendDisplayMode,
  VisibilityMode,
  type VizLegendOptions,
} from '@grafana/schema';
import { PanelChrome, TimeSeries, useStyles2, useTheme2 } from '@grafana/ui';
import React, { useEffect, useMemo, useState } from 'react';
import { QueryType } from '../src/types';
import { harnessTestIds } from './harness-constants';
import { datasource, range, request } from './harness-datasource';
import { InsightRegions } from './insight-regions';
import type { InsightsState } from './insights';

/**
 * Buckets for about this many points across the range, as a panel's max data points would ask,
 * but never under 10 s: a short range's per-second buckets would be all spikes.
 */
const MAX_DATA_POINTS = 150;
const MIN_INTERVAL = '10s';
const RIGHT_PADDING_PX = 20;
const LEGEND: VizLegendOptions = {
  showLegend: true,
  displayMode: LegendDisplayMode.List,
  placement: 'bottom',
  calcs: [],
};

/**
 * What a time-series panel's defaults and its field-config registry would set on each series.
 * Outside Grafana that registry is empty, so applyFieldOverrides would apply no defaults at all.
 */
const SERIES_CONFIG: FieldConfig = {
  color: { mode: FieldColorModeId.PaletteClassic },
  min: 0,
  custom: {
    drawStyle: GraphDrawStyle.Line,
    lineWidth: 2,
    fillOpacity: 12,
    gradientMode: GraphGradientMode.Opacity,
    showPoints: VisibilityMode.Never,
    spanNulls: false,
  },
};

type CallRateState =
  | { state: LoadingState.Loading }
  | { state: LoadingState.Done; frames: DataFrame[] }
  | { state: LoadingState.Error; message: string };

/** The frames with the panel's series config, display processors and palette indexes. */
function prepareFrames(frames: DataFrame[], theme: GrafanaTheme2): DataFrame[] {
  const configured = frames.map((frame) => ({
    ...frame,
    fields: frame.fields.map((field) =>
      field.type === FieldType.number ? { ...field, config: { ...SERIES_CONFIG, ...field.config } } : field
    ),
  }));
  return applyFieldOverrides({
    data: configured,
    fieldConfig: { defaults: {}, overrides: [] },
    replaceVariables: (value) => value,
    theme,
    timeZone: 'utc',
  });
}

interface Props {
  insights: InsightsState;
  width: number;
  height: number;
}

export function CallRateChart({ insights, width, height }: Props) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const interval = useMemo(() => rangeUtil.calculateInterval(range, MAX_DATA_POINTS, MIN_INTERVAL), []);
  const [callRate, setCallRate] = useState<CallRateState>({ state: LoadingState.Loading });

  useEffect(() => {
    const query = { refId: 'C', queryType: QueryType.CallRate, groupBy: 'eventName' as const };
    datasource.query(request([query], [], interval)).then(
      (response) => setCallRate({ state: LoadingState.Done, frames: response.data as DataFrame[] }),
      (failure: unknown) =>
        setCallRate({
          state: LoadingState.Error,
          message: toDataQueryError(failure).message ?? 'call-rate query failed',
        })
    );
  }, [interval]);

  const frames = useMemo(
    () => (callRate.state === LoadingState.Done ? prepareFrames(callRate.frames, theme) : []),
    [callRate, theme]
  );
  const error =
    callRate.state === LoadingState.Error
      ? `Call rate: ${callRate.message}`
      : insights.state === 'error'
        ? `Insights: ${insights.message}`
        : undefined;
  // Done once both queries have answered: the test and the screenshots wait for it.
  const state =
    error !== undefined
      ? LoadingState.Error
      : callRate.state === LoadingState.Done && insights.state === 'done'
        ? LoadingState.Done
        : LoadingState.Loading;
  const regions = insights.state === 'done' ? insights.regions : [];

  return (
    <div data-testid={harnessTestIds.chart} data-state={state} data-series={frames.length} data-error={error}>
      <PanelChrome
        title={`Call rate by event name (calls per ${interval.interval})`}
        width={width}
        height={height}
        loadingState={state}
        statusMessage={error}
      >
        {(innerWidth, innerHeight) =>
          state !== LoadingState.Done ? null : frames.length === 0 ? (
            <div className={styles.noData}>No data</div>
          ) : (
            <TimeSeries
              frames={frames}
              width={innerWidth}
              height={innerHeight}
              timeRange={range}
              timeZone="utc"
              legend={LEGEND}
            >
              {(config) => {
                // Room on the right for the last time label: the range often ends on a tick (10:30),
                // whose label uPlot centres on the plot's edge. Idempotent, and read when the plot is built.
                config.setPadding([null, RIGHT_PADDING_PX, null, null]);
                return <InsightRegions config={config} regions={regions} />;
              }}
            </TimeSeries>
          )
        }
      </PanelChrome>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  noData: css({
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    height: '100%',
    color: theme.colors.text.secondary,
  }),
});
