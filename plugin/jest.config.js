// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

// Extends the scaffolded config (./.config is generated; see .config/README.md):
// - `.mjs` is transformed too: d3-color 3.1.1 ships only ES modules as .mjs.
// - more of Grafana 13's dependencies ship only ES modules.
const swcTransform = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  ...base,
  transform: { '^.+\\.(t|j|mj)sx?$': swcTransform },
  transformIgnorePatterns: [
    nodeModulesToTransform([
      ...grafanaESModules,
      '@react-hookz/web',
      '@ver0/deep-equal',
      '@wojtekmaj',
      'react-calendar',
      'get-user-locale',
      'marked',
      // The panel's CSV export imports csv-stringify's browser ES module build.
      'csv-stringify',
      'ol',
      'rxjs',
      'uuid',
    ]),
  ],
  // One real collector with the audit story for the whole run (test-support/jest-global-setup.ts).
  testEnvironment: '<rootDir>/test-support/jsdom-with-fetch-environment.js',
  globalSetup: '<rootDir>/test-support/jest-global-setup.ts',
  globalTeardown: '<rootDir>/test-support/jest-global-teardown.ts',
  testTimeout: 30_000,
};
