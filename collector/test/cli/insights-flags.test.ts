/*
 * The collector's Insights settings from its command line and CRUMBTRAIL_INSIGHTS_* environment
 * variables: every flag reaches the config, bad values are refused, flags win over variables.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { Command } from 'commander';
import { CommanderError } from 'commander';

import { collectorCommand, configFromCommand } from '../../src/cli/collector-command.js';
import type { CollectorConfig } from '../../src/config.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { MINUTES_PER_DAY } from '../../src/insights/insight-settings.js';

/** A command that throws instead of exiting and prints nothing. */
function command(): Command {
  return collectorCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
}

function parse(args: string[]): CollectorConfig {
  const parsed = command().parse(args, { from: 'user' });
  return configFromCommand(parsed);
}

/** The error a command line is refused with. */
function refusal(args: string[]): CommanderError {
  try {
    parse(args);
  } catch (error) {
    assert.ok(error instanceof CommanderError, `expected a CommanderError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('collector command: Insights settings', () => {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    // Run without the CRUMBTRAIL_* variables of the environment the tests run in.
    saved = {};
    for (const name of Object.keys(process.env).filter((key) => key.startsWith('CRUMBTRAIL_'))) {
      saved[name] = process.env[name];
      Reflect.deleteProperty(process.env, name);
    }
  });
  afterEach(() => {
    for (const name of Object.keys(process.env).filter((key) => key.startsWith('CRUMBTRAIL_'))) {
      Reflect.deleteProperty(process.env, name);
    }
    Object.assign(process.env, saved);
  });

  it('defaults to Insights on, with the default settings', () => {
    const config = parse([]);
    assert.deepEqual(config.insights, DEFAULT_CONFIG.insights);
    assert.equal(config.insights.enabled, true);
    assert.equal(config.insights.detector.baselineMinutes, 7 * MINUTES_PER_DAY);
  });

  it('reads every --insights-* flag into the config', () => {
    const config = parse([
      '--insights-baseline-days',
      '14',
      '--insights-threshold',
      '5.5',
      '--insights-min-calls',
      '20',
      '--insights-min-excess',
      '0',
      '--insights-min-ratio',
      '3.25',
      '--insights-start-after',
      '3',
      '--insights-end-after',
      '10',
      '--insights-read-calls',
      '--insights-interval-seconds',
      '30',
      '--insights-lateness-seconds',
      '0',
      '--insights-max-series',
      '50',
    ]);
    assert.deepEqual(config.insights, {
      enabled: true,
      detector: {
        ...DEFAULT_CONFIG.insights.detector,
        baselineMinutes: 14 * MINUTES_PER_DAY,
        zThreshold: 5.5,
        minCount: 20,
        minExcess: 0,
        minRatio: 3.25,
        startAfter: 3,
        endAfter: 10,
      },
      countsReadCalls: true,
      intervalMs: 30_000,
      latenessMs: 0,
      maxSeries: 50,
    });
    // The rest of the configuration is untouched.
    assert.deepEqual({ ...config, insights: DEFAULT_CONFIG.insights }, { ...parse([]) });
  });

  it('--no-insights turns Insights off and leaves its settings alone', () => {
    const config = parse(['--no-insights']);
    assert.equal(config.insights.enabled, false);
    assert.deepEqual(config.insights.detector, DEFAULT_CONFIG.insights.detector);
  });

  it('refuses values that are not numbers or out of range', () => {
    const refused: [flag: string, value: string][] = [
      ['--insights-threshold', 'abc'],
      ['--insights-threshold', '0.5'],
      ['--insights-threshold', '101'],
      ['--insights-threshold', '4e1'],
      ['--insights-min-ratio', '0.5'],
      ['--insights-min-ratio', 'twice'],
      ['--insights-baseline-days', '0'],
      ['--insights-baseline-days', '91'],
      ['--insights-baseline-days', '1.5'],
      ['--insights-min-calls', '0'],
      ['--insights-min-excess', 'x'],
      ['--insights-start-after', '0'],
      ['--insights-start-after', '61'],
      ['--insights-end-after', '0'],
      ['--insights-interval-seconds', '0'],
      ['--insights-lateness-seconds', '601'],
      ['--insights-max-series', '0'],
    ];
    for (const [flag, value] of refused) {
      const error = refusal([flag, value]);
      assert.equal(error.code, 'commander.invalidArgument', `${flag} ${value}: ${error.code}`);
      assert.ok(error.message.includes(flag), `${flag} ${value}: ${error.message}`);
    }
  });

  it('accepts the ends of each range', () => {
    const low = parse([
      '--insights-threshold',
      '1',
      '--insights-min-ratio',
      '1',
      '--insights-baseline-days',
      '1',
      '--insights-start-after',
      '1',
    ]);
    assert.equal(low.insights.detector.zThreshold, 1);
    assert.equal(low.insights.detector.minRatio, 1);
    assert.equal(low.insights.detector.baselineMinutes, MINUTES_PER_DAY);
    assert.equal(low.insights.detector.startAfter, 1);
    const high = parse(['--insights-threshold', '100', '--insights-baseline-days', '90']);
    assert.equal(high.insights.detector.zThreshold, 100);
    assert.equal(high.insights.detector.baselineMinutes, 90 * MINUTES_PER_DAY);
  });

  it('reads the CRUMBTRAIL_INSIGHTS_* environment variables', () => {
    Object.assign(process.env, {
      CRUMBTRAIL_INSIGHTS_BASELINE_DAYS: '3',
      CRUMBTRAIL_INSIGHTS_THRESHOLD: '6',
      CRUMBTRAIL_INSIGHTS_MIN_CALLS: '12',
      CRUMBTRAIL_INSIGHTS_MIN_EXCESS: '7',
      CRUMBTRAIL_INSIGHTS_MIN_RATIO: '4',
      CRUMBTRAIL_INSIGHTS_START_AFTER: '4',
      CRUMBTRAIL_INSIGHTS_END_AFTER: '9',
      CRUMBTRAIL_INSIGHTS_READ_CALLS: '1',
      CRUMBTRAIL_INSIGHTS_INTERVAL_SECONDS: '20',
      CRUMBTRAIL_INSIGHTS_LATENESS_SECONDS: '45',
      CRUMBTRAIL_INSIGHTS_MAX_SERIES: '77',
    });
    assert.deepEqual(parse([]).insights, {
      enabled: true,
      detector: {
        ...DEFAULT_CONFIG.insights.detector,
        baselineMinutes: 3 * MINUTES_PER_DAY,
        zThreshold: 6,
        minCount: 12,
        minExcess: 7,
        minRatio: 4,
        startAfter: 4,
        endAfter: 9,
      },
      countsReadCalls: true,
      intervalMs: 20_000,
      latenessMs: 45_000,
      maxSeries: 77,
    });
  });

  it('reads yes/no variables for their value: CRUMBTRAIL_INSIGHTS=false turns Insights off, =true keeps it', () => {
    for (const [value, enabled] of [
      ['false', false],
      ['0', false],
      ['no', false],
      ['true', true],
      ['1', true],
      ['yes', true],
    ] as const) {
      process.env.CRUMBTRAIL_INSIGHTS = value;
      assert.equal(parse([]).insights.enabled, enabled, value);
    }
    process.env.CRUMBTRAIL_INSIGHTS_READ_CALLS = 'false';
    process.env.CRUMBTRAIL_DERIVE_FROM_HTTP_SPANS = 'false';
    const config = parse([]);
    assert.equal(config.insights.countsReadCalls, false);
    assert.equal(config.deriveFromHttpSpans, false);
    process.env.CRUMBTRAIL_DERIVE_FROM_HTTP_SPANS = 'TRUE';
    assert.equal(parse([]).deriveFromHttpSpans, true);
  });

  it('refuses a yes/no variable that is neither, naming it; a flag on the command line wins', () => {
    process.env.CRUMBTRAIL_INSIGHTS_READ_CALLS = 'maybe';
    assert.match(refusal([]).message, /CRUMBTRAIL_INSIGHTS_READ_CALLS="maybe": expected true or false/);
    process.env.CRUMBTRAIL_INSIGHTS_READ_CALLS = 'false';
    assert.equal(parse(['--insights-read-calls']).insights.countsReadCalls, true);
    process.env.CRUMBTRAIL_INSIGHTS = 'true';
    assert.equal(parse(['--no-insights']).insights.enabled, false);
  });

  it('flags win over environment variables', () => {
    process.env.CRUMBTRAIL_INSIGHTS_THRESHOLD = '6';
    process.env.CRUMBTRAIL_INSIGHTS_MAX_SERIES = '77';
    const config = parse(['--insights-threshold', '7.5']);
    assert.equal(config.insights.detector.zThreshold, 7.5);
    assert.equal(config.insights.maxSeries, 77);
  });

  it('refuses a bad value from the environment too', () => {
    process.env.CRUMBTRAIL_INSIGHTS_THRESHOLD = 'abc';
    const error = refusal([]);
    assert.equal(error.code, 'commander.invalidArgument');
    assert.match(error.message, /CRUMBTRAIL_INSIGHTS_THRESHOLD/);
    process.env.CRUMBTRAIL_INSIGHTS_THRESHOLD = '5';
    process.env.CRUMBTRAIL_INSIGHTS_MIN_RATIO = '0.5';
    assert.equal(refusal([]).code, 'commander.invalidArgument');
  });
});

describe('collector command: --insights-detect-drops', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.CRUMBTRAIL_INSIGHTS_DETECT_DROPS;
    Reflect.deleteProperty(process.env, 'CRUMBTRAIL_INSIGHTS_DETECT_DROPS');
  });
  afterEach(() => {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'CRUMBTRAIL_INSIGHTS_DETECT_DROPS');
    else process.env.CRUMBTRAIL_INSIGHTS_DETECT_DROPS = saved;
  });

  it('is off by default and on with the flag or its variable; a bad value is refused', () => {
    assert.equal(parse([]).insights.detector.detectDrops, false);
    assert.equal(parse(['--insights-detect-drops']).insights.detector.detectDrops, true);
    process.env.CRUMBTRAIL_INSIGHTS_DETECT_DROPS = 'true';
    assert.equal(parse([]).insights.detector.detectDrops, true);
    process.env.CRUMBTRAIL_INSIGHTS_DETECT_DROPS = 'sometimes';
    assert.match(refusal([]).message, /CRUMBTRAIL_INSIGHTS_DETECT_DROPS="sometimes": expected true or false/);
  });
});
