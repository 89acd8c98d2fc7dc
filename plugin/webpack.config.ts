// Extends the scaffolded webpack config (./.config is generated; see .config/README.md).
import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import { merge } from 'webpack-merge';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

const config = async (env: Env): Promise<Configuration> => {
  const baseConfig = await grafanaConfig(env);
  return merge(baseConfig, {
    plugins: [
      // The scaffold copies the root plugin's logos only; the nested panel needs its own.
      new CopyWebpackPlugin({ patterns: [{ from: 'panel/img', to: 'panel/img' }] }),
    ],
  });
};

export default config;
