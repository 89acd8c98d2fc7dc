/*
 * Insights drawn over a uPlot chart as Grafana draws region annotations on a time-series panel: a
 * translucent band from Start to End over the plotting area, a solid marker bar along its bottom,
 * and the title. Grafana's own annotation layer lives in its time-series panel, not in @grafana/ui,
 * so this follows @grafana/ui's EventsCanvas: it hooks the plot's draw and lays DOM over the
 * plotting area. DOM rather than canvas paint so a test can find each region, its title and times.
 */
import { css } from '@emotion/css';
import { colorManipulator, type GrafanaTheme2 } from '@grafana/data';
import { type UPlotConfigBuilder, useStyles2 } from '@grafana/ui';
import React, { useLayoutEffect, useState } from 'react';
import { harnessTestIds } from './harness-constants';
import type { InsightRegion } from './insights';

/** Grafana's built-in annotation colour: apart from the classic palette's series colours. */
const REGION_COLOR = 'rgba(0, 211, 255, 1)';
/** Rough width of a title's label (px per character at the label's size, plus padding). */
const LABEL_CHAR_PX = 7;
const LABEL_PADDING_PX = 16;

type LabelSide = 'before' | 'after' | 'inside';

/**
 * Where a region's title goes: an insight's region holds the very spike it is about, so the title
 * sits beside the region, flush with its edge (before it, or after it near the plot's left edge),
 * and only inside when neither side has room.
 */
function labelSide(title: string, x0: number, x1: number, plotWidth: number): LabelSide {
  const labelWidth = title.length * LABEL_CHAR_PX + LABEL_PADDING_PX;
  if (x0 >= labelWidth) {
    return 'before';
  }
  return plotWidth - x1 >= labelWidth ? 'after' : 'inside';
}

/** The plotting area in CSS pixels, and time → x within it, as of uPlot's last draw. */
interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
  xOf: (ms: number) => number;
}

interface Props {
  config: UPlotConfigBuilder;
  regions: InsightRegion[];
}

export function InsightRegions({ config, regions }: Props) {
  const styles = useStyles2(getStyles);
  const [area, setArea] = useState<PlotArea>();

  // Layout effects run before the chart's own mount creates the plot from `config`, so the hook is
  // in place for its first draw; every later draw (new data, new size) moves the regions along.
  useLayoutEffect(() => {
    config.addHook('draw', (plot) => {
      // uPlot's bbox is in canvas pixels; the overlay is laid out in CSS pixels.
      const ratio = window.devicePixelRatio;
      setArea({
        left: plot.bbox.left / ratio,
        top: plot.bbox.top / ratio,
        width: plot.bbox.width / ratio,
        height: plot.bbox.height / ratio,
        xOf: (ms) => plot.valToPos(ms, 'x'),
      });
    });
  }, [config]);

  if (area === undefined) {
    return null;
  }
  return (
    <div
      className={styles.area}
      style={{ left: area.left, top: area.top, width: area.width, height: area.height }}
      data-testid={harnessTestIds.insightRegions}
    >
      {regions.map((region, index) => {
        // A region reaching beyond the time range is cut at the plotting area's edge, as Grafana does.
        const x0 = Math.max(0, area.xOf(region.startMs));
        const x1 = Math.min(area.width, area.xOf(region.endMs));
        if (!(x1 > x0)) {
          return null;
        }
        const side = labelSide(region.title, x0, x1, area.width);
        return (
          <div
            key={index}
            className={styles.region}
            style={{ left: x0, width: x1 - x0 }}
            role="img"
            aria-label={`Insight region: ${region.title}`}
            data-testid={harnessTestIds.insightRegion}
            data-title={region.title}
            data-start-ms={region.startMs}
            data-end-ms={region.endMs}
          >
            <span className={styles.label[side]} title={region.text}>
              {region.title}
            </span>
            <span className={styles.marker} />
          </div>
        );
      })}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => {
  const color = theme.visualization.getColorByName(REGION_COLOR);
  const label = {
    position: 'absolute' as const,
    top: 0,
    whiteSpace: 'nowrap' as const,
    padding: theme.spacing(0.25, 1),
    fontSize: theme.typography.bodySmall.fontSize,
    lineHeight: theme.typography.bodySmall.lineHeight,
    color: theme.colors.text.primary,
    background: theme.colors.background.primary,
    border: `1px solid ${color}`,
    borderRadius: theme.shape.radius.default,
    boxShadow: theme.shadows.z1,
    pointerEvents: 'auto' as const,
  };
  return {
    // Over the canvas, yet the plot keeps its cursor: only the labels take the pointer.
    area: css({
      position: 'absolute',
      pointerEvents: 'none',
    }),
    region: css({
      position: 'absolute',
      top: 0,
      bottom: 0,
      background: colorManipulator.alpha(color, theme.isDark ? 0.15 : 0.12),
      borderLeft: `1px dashed ${colorManipulator.alpha(color, 0.7)}`,
      borderRight: `1px dashed ${colorManipulator.alpha(color, 0.7)}`,
    }),
    label: {
      before: css({ ...label, right: '100%', borderRightWidth: 3 }),
      after: css({ ...label, left: '100%', borderLeftWidth: 3 }),
      inside: css({ ...label, left: theme.spacing(0.5) }),
    } satisfies Record<LabelSide, string>,
    // Grafana marks a region along the bottom of the plot with a bar in the annotation's colour.
    marker: css({
      position: 'absolute',
      left: 0,
      right: 0,
      bottom: 0,
      height: 4,
      background: color,
    }),
  };
};
