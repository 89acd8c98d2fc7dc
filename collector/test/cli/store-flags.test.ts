/*
 * The collector's store settings from its command line and CRUMBTRAIL_* environment variables:
 * sqlite by default, every ClickHouse flag and variable reaches the config, bad values are refused,
 * and --print-clickhouse-ddl prints the schema (the built bin, as a DBA runs it) without starting.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { Command } from 'commander';
import { CommanderError } from 'commander';

import { collectorCommand, configFromCommand } from '../../src/cli/collector-command.js';
import type { CollectorConfig } from '../../src/config.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { fullDdl } from '../../src/store/clickhouse/clickhouse-schema.js';
import { COLLECTOR_BIN } from '../support/collector-process.js';

function command(): Command {
  return collectorCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
}

function parse(args: string[]): CollectorConfig {
  return configFromCommand(command().parse(args, { from: 'user' }));
}

function refused(args: string[]): boolean {
  try {
    parse(args);
  } catch (error) {
    return error instanceof CommanderError;
  }
  return false;
}

describe('collector command: store settings', () => {
  let saved: Record<string, string | undefined> = {};
  const clearEnvironment = (): void => {
    for (const name of Object.keys(process.env).filter((key) => key.startsWith('CRUMBTRAIL_'))) {
      Reflect.deleteProperty(process.env, name);
    }
  };
  beforeEach(() => {
    saved = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('CRUMBTRAIL_')));
    clearEnvironment();
  });
  afterEach(() => {
    clearEnvironment();
    Object.assign(process.env, saved);
  });

  it('defaults to the SQLite store', () => {
    const config = parse([]);
    assert.equal(config.store, 'sqlite');
    assert.deepEqual(config.clickhouse, DEFAULT_CONFIG.clickhouse);
  });

  it('reads every ClickHouse flag', () => {
    const config = parse([
      '--store',
      'clickhouse',
      '--clickhouse-url',
      'https://ch.example.com:8443',
      '--clickhouse-database',
      'audit_2',
      '--clickhouse-user',
      'writer',
      '--clickhouse-password',
      's3cret',
      '--clickhouse-cluster',
      'prod',
      '--clickhouse-insert-quorum',
      '2',
      '--no-clickhouse-text-index',
    ]);
    assert.equal(config.store, 'clickhouse');
    assert.deepEqual(config.clickhouse, {
      url: 'https://ch.example.com:8443',
      database: 'audit_2',
      username: 'writer',
      password: 's3cret',
      cluster: 'prod',
      insertQuorum: 2,
      textIndex: false,
    });
  });

  it('reads the CRUMBTRAIL_* variables, and flags win over them', () => {
    Object.assign(process.env, {
      CRUMBTRAIL_STORE: 'clickhouse',
      CRUMBTRAIL_CLICKHOUSE_URL: 'http://10.0.0.5:8123',
      CRUMBTRAIL_CLICKHOUSE_DATABASE: 'fromenv',
      CRUMBTRAIL_CLICKHOUSE_USER: 'envuser',
      CRUMBTRAIL_CLICKHOUSE_PASSWORD: 'envpass',
      CRUMBTRAIL_CLICKHOUSE_CLUSTER: 'envcluster',
      CRUMBTRAIL_CLICKHOUSE_INSERT_QUORUM: '3',
      CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX: 'false',
    });
    const config = parse(['--clickhouse-database', 'fromflag']);
    assert.equal(config.store, 'clickhouse');
    assert.deepEqual(config.clickhouse, {
      url: 'http://10.0.0.5:8123',
      database: 'fromflag',
      username: 'envuser',
      password: 'envpass',
      cluster: 'envcluster',
      insertQuorum: 3,
      textIndex: false,
    });
    process.env.CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX = 'off';
    assert.equal(parse([]).clickhouse.textIndex, false);
    process.env.CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX = 'true';
    assert.equal(parse([]).clickhouse.textIndex, true);
    assert.equal(parse(['--no-clickhouse-text-index']).clickhouse.textIndex, false, 'the flag wins');
    process.env.CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX = 'maybe';
    assert.throws(() => parse([]), CommanderError);
  });

  it('refuses bad values', () => {
    for (const args of [
      ['--store', 'postgres'],
      ['--clickhouse-url', 'ftp://x'],
      ['--clickhouse-url', 'not a url'],
      ['--clickhouse-database', 'x; DROP DATABASE y'],
      ['--clickhouse-database', '1abc'],
      ['--clickhouse-cluster', 'a-b'],
      ['--clickhouse-insert-quorum', '0'],
    ]) {
      assert.ok(refused(args), args.join(' '));
    }
  });

  it('prints the DDL with --print-clickhouse-ddl and exits', () => {
    const single = execFileSync(
      process.execPath,
      [COLLECTOR_BIN, '--print-clickhouse-ddl', '--clickhouse-database', 'audit'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(single, fullDdl({ database: 'audit' }));
    const cluster = execFileSync(
      process.execPath,
      [
        COLLECTOR_BIN,
        '--print-clickhouse-ddl',
        '--clickhouse-database',
        'audit',
        '--clickhouse-cluster',
        'prod',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(cluster, fullDdl({ database: 'audit', cluster: 'prod' }));
    assert.match(cluster, /ON CLUSTER prod/);
  });
});
