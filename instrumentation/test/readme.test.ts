/*
 * The README's instrumentation examples as a newcomer copies them: every ```ts block of the
 * project README's "Instrument a service" section, and of the package's own README, is compiled
 * under strict TypeScript (nodenext, an ES module project) against the built package, each block a
 * module of its own (a block starting with a `// name.ts` comment is saved under that name, so others
 * can import it). And the README's sample record shows requestParameters in the shape the adapters
 * record.
 *
 * Needs the package built first (`npx tsc -b instrumentation`): the blocks import
 * '@crumbtrail/instrumentation', which resolves to its dist/ like an installed package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import express from 'express';
import * as A from '../src/attributes.js';
import { audit, auditMiddleware } from '../src/express.js';
import { startTracing, waitForAuditSpans } from './support/tracing.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const TYPECHECK_TIMEOUT_MS = 5 * 60_000;

/** The markdown between a heading and the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the README has a "${heading}" section`);
  const level = /^#+/.exec(heading)![0];
  const next = markdown.slice(start + heading.length + 2).search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return next < 0 ? markdown.slice(start) : markdown.slice(start, start + heading.length + 2 + next);
}

function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm'))].map(
    (match) => match[1]!,
  );
}

describe('README examples', () => {
  const scratch = join(REPO, 'instrumentation/.test-output');
  mkdirSync(scratch, { recursive: true });
  // Inside the repository, so that the blocks resolve packages from its node_modules.
  const dir = mkdtempSync(join(scratch, 'readme-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'compile under strict TypeScript against the built package',
    { timeout: TYPECHECK_TIMEOUT_MS },
    async () => {
      const blocks = [
        ...codeBlocks(
          section(readFileSync(join(REPO, 'README.md'), 'utf8'), '## Instrument a service'),
          'ts',
        ),
        ...codeBlocks(readFileSync(join(REPO, 'instrumentation/README.md'), 'utf8'), 'ts'),
      ];
      assert.ok(blocks.length >= 6, `found ${blocks.length} blocks`);
      const files = blocks.map((block, index) => {
        const name = /^\/\/ ([\w-]+\.ts)\b/.exec(block)?.[1] ?? `block-${index}.ts`;
        // A block without imports would be a script sharing one global scope with the others.
        writeFileSync(join(dir, name), /^import /m.test(block) ? block : `${block}\nexport {};\n`);
        return name;
      });
      assert.equal(new Set(files).size, files.length, 'distinct file names');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noEmit: true,
            types: ['node'],
            // The package's own declarations are checked in the fresh projects of package.test.ts;
            // here the monorepo's node_modules hold two Express majors' types side by side.
            skipLibCheck: true,
          },
          include: files,
        }),
      );
      try {
        await run(process.execPath, [TSC, '-p', dir], { cwd: dir, timeout: TYPECHECK_TIMEOUT_MS });
      } catch (error) {
        const { stdout } = error as { stdout?: string };
        assert.fail(`README examples do not compile:\n${stdout ?? String(error)}`);
      }
    },
  );

  it('run the CLI through its scoped package, with a command that package has', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const invocations = [...readme.matchAll(/npx -p (@[\w-]+\/[\w-]+) ([\w-]+) ?([\w-]*)/g)];
    assert.ok(
      invocations.some(
        ([, , command, subcommand]) => command === 'crumbtrail' && subcommand === 'lookup-events',
      ),
      'the README says how to run `crumbtrail lookup-events` from an app folder',
    );
    const manifests = new Map(
      ['collector', 'instrumentation'].map((dir) => {
        const manifest = JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as {
          name: string;
          bin?: Record<string, string>;
        };
        return [manifest.name, manifest] as const;
      }),
    );
    for (const [invocation, name, command] of invocations) {
      const manifest = manifests.get(name!);
      assert.ok(manifest !== undefined, `${invocation}: ${name} is one of this project's packages`);
      assert.ok(
        Object.hasOwn(manifest.bin ?? {}, command!),
        `${invocation}: ${name} has a "${command}" command`,
      );
    }
  });

  it('show requestParameters in the shape the adapters record ({ body, query, params })', async () => {
    const sample = codeBlocks(
      section(readFileSync(join(REPO, 'README.md'), 'utf8'), '## The event record'),
      'json',
    )
      .map((block) => JSON.parse(block) as Record<string, unknown>)
      .find((record) => record.eventName === 'CreateUser');
    assert.ok(sample !== undefined, 'the README has a sample CreateUser record');

    const tracing = startTracing({ httpInstrumentation: false });
    const app = express();
    app.use(express.json());
    app.use(auditMiddleware());
    app.post('/users', audit({ eventName: 'CreateUser', requestParameters: true }), (_req, res) => {
      res.status(201).json({});
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => {
        resolve(s);
      });
    });
    try {
      const { port } = server.address() as AddressInfo;
      await fetch(`http://127.0.0.1:${port}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userName: 'Mary' }),
      });
      const [span] = await waitForAuditSpans(tracing, 1);
      const recorded = JSON.parse(String(span!.attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])) as unknown;
      assert.deepEqual(sample.requestParameters, recorded);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tracing.shutdown();
    }
  });
});
