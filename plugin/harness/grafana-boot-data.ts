/*
 * What Grafana's index page sets before any of its code runs: window.grafanaBootData, which
 * @grafana/runtime's config reads as it loads, and the public path @grafana/ui loads icons (and
 * fonts) from. The harness page imports this module first.
 */
import { HARNESS } from './harness-constants';

export const themeMode: 'dark' | 'light' =
  new URLSearchParams(window.location.search).get('theme') === 'light' ? 'light' : 'dark';

declare global {
  interface Window {
    grafanaBootData?: unknown;
    __grafana_public_path__?: string;
  }
}

window.__grafana_public_path__ = HARNESS.publicPath;

window.grafanaBootData = {
  assets: { dark: '', light: '' },
  settings: {},
  // config.theme2 (used by some @grafana/ui parts outside the theme context) follows the user's theme.
  user: { theme: themeMode, timezone: 'utc' },
  navTree: [],
};
