/*
 * Bundles the harness page (harness-app.tsx: the real query editor and event-history panel with
 * @grafana/ui, React and the datasource) for the browser with esbuild, next to its index.html.
 * Everything is bundled, @grafana/* included: there is no Grafana app to provide them here.
 *
 *   node --import tsx plugin/harness/build-harness.ts [outdir]
 */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HarnessBuild {
  outdir: string;
  /** Warnings esbuild reported, as text. */
  warnings: string[];
}

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>crumbtrail plugin harness</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/harness.css" />
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/harness.js"></script>
  </body>
</html>
`;

/** Builds into `outdir`, by default a new folder under the OS's temporary folder (the caller removes it). */
export async function buildHarness(outdir = mkdtempSync(join(tmpdir(), 'crumbtrail-harness-'))): Promise<HarnessBuild> {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { harness: join(__dirname, 'harness-app.tsx') },
    absWorkingDir: resolve(__dirname, '..'),
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    jsx: 'automatic',
    // Development React: its warnings (keys, hooks, act) reach the console, which the test watches.
    define: { 'process.env.NODE_ENV': '"development"', global: 'globalThis' },
    loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file' },
    assetNames: 'assets/[name]-[hash]',
    sourcemap: 'linked',
    logLevel: 'silent',
    // esbuild's CSS output is only written when something imports CSS: always have a stylesheet.
    banner: { css: '/* crumbtrail plugin harness */' },
  });
  const warnings = result.warnings.map((warning) => `${warning.location?.file ?? ''}: ${warning.text}`);
  writeFileSync(join(outdir, 'index.html'), INDEX_HTML);
  return { outdir, warnings };
}

if (require.main === module) {
  const started = Date.now();
  buildHarness(process.argv[2] === undefined ? undefined : resolve(process.argv[2])).then(
    ({ outdir, warnings }) => {
      warnings.forEach((warning) => console.warn(`warning: ${warning}`));
      console.log(`harness built into ${outdir} in ${Date.now() - started} ms`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    }
  );
}
