/*
 * The ClickHouse engine's SQL without an engine: no filter value changes a query's shape (the
 * text outside its string literals), integers that are not safe are refused, the commit sequence
 * never lets a reader past a batch still in flight, and the printed DDL's cluster variant.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { LOOKUP_FIELDS } from '../../src/store/event-store.js';
import type { EventFilter } from '../../src/store/event-store.js';
import { containsPattern, filterToClickHouse } from '../../src/store/clickhouse/clickhouse-filter-sql.js';
import type { QueryForm } from '../../src/store/clickhouse/clickhouse-filter-sql.js';
import { fullDdl, searchIndexDdl, supportsTextIndex } from '../../src/store/clickhouse/clickhouse-schema.js';
import { CommitSequence, SLOTS_PER_MS } from '../../src/store/clickhouse/commit-sequence.js';
import { sqlInteger, sqlString } from '../../src/store/clickhouse/sql-literal.js';
import { HOSTILE_VALUES } from '../support/clickhouse-engine-tests.js';

/**
 * The query with each string literal replaced by ?, read as ClickHouse's lexer reads literals
 * (backslash escapes the next character; '' inside a literal is a quote). A literal that does
 * not end is reported as such, so a broken escape cannot hide.
 */
function shape(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    if (sql[i] !== "'") {
      out += sql.charAt(i);
      continue;
    }
    let j = i + 1;
    for (;;) {
      if (j >= sql.length) return `${out}<unterminated literal>`;
      if (sql[j] === '\\') j += 2;
      else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
      else if (sql[j] === "'") break;
      else j++;
    }
    out += '?';
    i = j;
  }
  return out;
}

function everyFilter(value: string): EventFilter {
  return {
    startTimeMs: 1,
    endTimeMs: 2,
    fields: Object.fromEntries(LOOKUP_FIELDS.map((field) => [field, [value, 'second']])),
    // An empty text is no text filter at all (a different query by design).
    text: value === '' ? 'x' : value,
  };
}

describe('ClickHouse SQL', () => {
  // Both forms of free text: 18.16's position() and the LIKE a text index answers.
  const queryForms = ['plain', 'indexed'] as const;
  const reference = (queryForm: QueryForm): string =>
    shape(filterToClickHouse(everyFilter('plain'), queryForm));

  it('keeps the query shape for hostile values in every filter', () => {
    for (const queryForm of queryForms) {
      assert.ok(!reference(queryForm).includes('unterminated'));
      for (const value of HOSTILE_VALUES) {
        assert.equal(
          shape(filterToClickHouse(everyFilter(value), queryForm)),
          reference(queryForm),
          `${queryForm}: ${JSON.stringify(value)}`,
        );
      }
    }
  });

  it('keeps the query shape for any text in every filter (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.constantFrom(...queryForms),
        (value, queryForm) => {
          assert.equal(shape(filterToClickHouse(everyFilter(value), queryForm)), reference(queryForm));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes no quote, backslash or control byte unescaped', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (value) => {
        const literal = sqlString(value).slice(1, -1);
        // eslint-disable-next-line no-control-regex -- control characters are exactly what must not appear
        assert.doesNotMatch(literal, /['\u0000-\u001f\u007f]/);
        assert.doesNotMatch(literal.replace(/\\x[0-9a-f]{2}/g, ''), /\\/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses integers that are not safe', () => {
    for (const bad of [Number.NaN, Infinity, 1.5, 2 ** 60]) assert.throws(() => sqlInteger(bad), RangeError);
    assert.equal(sqlInteger(-3), '-3');
  });

  it('never lets a reader past a batch still in flight', () => {
    let now = Date.UTC(2026, 0, 1);
    const sequence = new CommitSequence(() => now);
    const first = sequence.reserve(10);
    const second = sequence.reserve(5);
    assert.equal(second.first, first.first + 10);
    second.release();
    assert.equal(sequence.visibleThrough(), first.first - 1, 'the later batch finished first: not yet');
    first.release();
    assert.equal(sequence.visibleThrough(), Number.MAX_SAFE_INTEGER);
    now += 1;
    const third = sequence.reserve(1);
    assert.ok(third.first > second.first + 4, 'numbers keep rising with the clock');
    third.release();
    const settled = new CommitSequence(() => now, 1000);
    assert.equal(settled.visibleThrough(), (now - 1000 - Date.UTC(2024, 0, 1)) * SLOTS_PER_MS);
  });

  it('prints a single-node DDL and a cluster one (ON CLUSTER, Replicated, Distributed)', () => {
    const single = fullDdl({ database: 'audit' });
    assert.match(single, /CREATE TABLE IF NOT EXISTS audit\.events \(/);
    assert.match(single, /ENGINE = ReplacingMergeTree\(keep_first\)/);
    assert.doesNotMatch(single, /ON CLUSTER|Replicated|Distributed/);
    const cluster = fullDdl({ database: 'audit', cluster: 'prod' });
    assert.match(cluster, /CREATE TABLE IF NOT EXISTS audit\.events_local ON CLUSTER prod/);
    assert.match(
      cluster,
      /ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/audit\/events_local', '\{replica\}', keep_first\)/,
    );
    assert.match(cluster, /ENGINE = Distributed\(prod, audit, events_local, cityHash64\(event_id\)\)/);
    assert.match(cluster, /ReplicatedSummingMergeTree/);
  });

  it('creates the events table with granules of 1,024 rows, the stored one on a cluster', () => {
    const settingsOf = (ddl: string, table: string): string | undefined =>
      ddl
        .split(';')
        .find((statement) => statement.includes(`CREATE TABLE IF NOT EXISTS ${table} `))
        ?.match(/^SETTINGS .*$/m)?.[0];
    const single = fullDdl({ database: 'audit' });
    assert.equal(settingsOf(single, 'audit.events'), 'SETTINGS index_granularity = 1024');
    assert.equal(settingsOf(single, 'audit.minute_counts'), undefined, 'small rows keep the default');
    const cluster = fullDdl({ database: 'audit', cluster: 'prod' });
    assert.equal(settingsOf(cluster, 'audit.events_local'), 'SETTINGS index_granularity = 1024');
    assert.equal(settingsOf(cluster, 'audit.events'), undefined, 'a Distributed table has no granules');
  });

  it('prints the skip indexes commented out, so the whole DDL runs on any version', () => {
    const single = fullDdl({ database: 'audit' });
    assert.match(single, /^-- ALTER TABLE audit\.events$/m);
    assert.match(
      single,
      /^-- ADD INDEX IF NOT EXISTS lookup_resource_names resource_names TYPE bloom_filter GRANULARITY 1,$/m,
    );
    assert.match(
      single,
      /^-- ADD INDEX IF NOT EXISTS record_4grams lowerUTF8\(record\) TYPE text\(tokenizer = ngrams\(4\)\);$/m,
    );
    // A database made by an earlier version loses its trigram index for the 4-gram one.
    assert.match(single, /^-- DROP INDEX IF EXISTS record_text,$/m);
    assert.doesNotMatch(single, /^[^-].*INDEX/m, 'no uncommented index statement');
    assert.match(
      fullDdl({ database: 'audit', cluster: 'prod' }),
      /^-- ALTER TABLE audit\.events_local ON CLUSTER prod$/m,
    );
  });

  it('alters the skip indexes only for what the table lacks', () => {
    const target = { database: 'audit' };
    const current = new Set([
      'lookup_username',
      'lookup_access_key_id',
      'lookup_source_ip',
      'lookup_resource_names',
      'record_4grams',
    ]);
    assert.equal(searchIndexDdl(target, { textIndex: true }, current), undefined);
    assert.equal(searchIndexDdl(target, { textIndex: false }, current), undefined);
    const withoutText = new Set([...current].filter((name) => name !== 'record_4grams'));
    assert.equal(searchIndexDdl(target, { textIndex: false }, withoutText), undefined);
    assert.equal(
      searchIndexDdl(target, { textIndex: true }, withoutText),
      'ALTER TABLE audit.events\nADD INDEX IF NOT EXISTS record_4grams lowerUTF8(record) TYPE text(tokenizer = ngrams(4))',
    );
    const earlier = new Set([...withoutText, 'record_text'].filter((name) => name !== 'lookup_source_ip'));
    assert.equal(
      searchIndexDdl(target, { textIndex: true }, earlier),
      [
        'ALTER TABLE audit.events',
        'ADD INDEX IF NOT EXISTS lookup_source_ip source_ip TYPE bloom_filter GRANULARITY 1,',
        'DROP INDEX IF EXISTS record_text,',
        'ADD INDEX IF NOT EXISTS record_4grams lowerUTF8(record) TYPE text(tokenizer = ngrams(4))',
      ].join('\n'),
    );
    // Without what the table has (a DBA's script): every clause.
    assert.equal(searchIndexDdl(target, { textIndex: true }).split('\n').length, 7);
  });

  it('adds the resource-name test a bloom filter answers in the indexed form only', () => {
    const byName = { fields: { resourceName: ['bucket-1', "it's"] } };
    assert.match(
      filterToClickHouse(byName, 'indexed'),
      /hasAny\(resource_names, \['bucket-1', 'it\\x27s'\]\)/,
    );
    assert.doesNotMatch(filterToClickHouse(byName), /hasAny/);
    assert.doesNotMatch(filterToClickHouse({ fields: { resourceType: ['Bucket'] } }, 'indexed'), /hasAny/);
  });

  it('knows which servers have text indexes (generally available from 26.2)', () => {
    for (const version of ['18.16.1', '19.1.6', '25.12.3.1', '26.1.9.2', 'unknown', '']) {
      assert.equal(supportsTextIndex(version), false, version);
    }
    for (const version of ['26.2.1.1', '26.7.2.1', '26.10.4.207', '27.1.1']) {
      assert.equal(supportsTextIndex(version), true, version);
    }
  });

  it('makes a LIKE pattern that takes the needle literally', () => {
    assert.equal(containsPattern('abc'), '%abc%');
    assert.equal(containsPattern('100%_done'), '%100\\%\\_done%');
    assert.equal(containsPattern('C:\\tmp'), '%C:\\\\tmp%');
    const where = filterToClickHouse({ fields: {}, text: "it's 50%" }, 'indexed');
    // sql-literal.ts writes the quote and the LIKE escape character as \x27 and \x5c.
    assert.ok(where.endsWith("lowerUTF8(record) LIKE lowerUTF8('%it\\x27s 50\\x5c%%')"), where);
    assert.match(
      filterToClickHouse({ fields: {}, text: 'x' }),
      /positionCaseInsensitiveUTF8\(record, 'x'\) > 0/,
    );
  });
});
