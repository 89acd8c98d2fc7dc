/*
 * The published package as a new user meets it: `npm pack` the built package, install the tarball
 * into fresh projects outside this monorepo (its peers come from the npm registry, as they would for
 * a user), and require/import it and compile against it under strict TypeScript without skipLibCheck:
 *
 *   - a CommonJS project with Fastify only (no express, no @opentelemetry/sdk-node): require() at
 *     run time, TypeScript `module: commonjs` and `module: node16`;
 *   - an ES module project with Express and the NodeSDK setup: import at run time (a real request
 *     through a real Express server, recorded into an in-memory exporter), TypeScript `nodenext`
 *     and `node16`.
 *
 * Needs the package built first (`npx tsc -b instrumentation`); the tarball is packed with
 * --ignore-scripts so that this test never rebuilds dist/ under tests running beside it. Installs use
 * npm's cache (--prefer-offline); the first run on a machine downloads the peers once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE_DIR = resolve(import.meta.dirname, '..');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
/** npm installs from the registry on a loaded machine: generous, per test and per hook. */
const STEP_TIMEOUT_MS = 8 * 60_000;
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** The environment without npm's own variables, which `npm test` would otherwise pass on to the installs. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      cwd,
      env: cleanEnv(),
      timeout: STEP_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: error,
    });
  }
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Strict, no skipLibCheck: every .d.ts of the package (and what it imports) is checked. */
function tsconfig(module: string, moduleResolution: string | undefined, include: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module,
      ...(moduleResolution === undefined ? {} : { moduleResolution }),
      strict: true,
      skipLibCheck: false,
      esModuleInterop: true,
      noEmit: true,
      types: ['node'],
    },
    include,
  });
}

async function typecheck(dir: string, config: string): Promise<void> {
  await sh(process.execPath, [TSC, '-p', config], dir);
}

const work = mkdtempSync(join(tmpdir(), 'crumbtrail-package-'));
let tarball: string;

before(
  async () => {
    assert.ok(
      existsSync(join(PACKAGE_DIR, 'dist/index.js')) && existsSync(join(PACKAGE_DIR, 'dist-cjs/index.js')),
      'build the package first: npx tsc -b instrumentation',
    );
    const packed = JSON.parse(
      await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], PACKAGE_DIR),
    ) as { filename: string }[];
    tarball = join(work, packed[0]!.filename);
  },
  { timeout: STEP_TIMEOUT_MS },
);

after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds README, LICENSE and both builds, and no build info or files of deleted sources', async () => {
    const entries = (await sh('tar', ['-tzf', tarball], work)).split('\n').filter(Boolean);
    for (const wanted of ['README.md', 'LICENSE', 'package.json', 'dist-cjs/package.json']) {
      assert.ok(entries.includes(`package/${wanted}`), `${wanted} is in the tarball`);
    }
    assert.deepEqual(
      entries.filter((entry) => entry.includes('tsbuildinfo')),
      [],
    );
    const sources = new Set(readdirSync(join(PACKAGE_DIR, 'src')).map((file) => file.replace(/\.ts$/, '')));
    for (const build of ['dist', 'dist-cjs']) {
      const modules = entries
        .filter((entry) => entry.startsWith(`package/${build}/`) && entry.endsWith('.js'))
        .map((entry) => entry.slice(`package/${build}/`.length, -'.js'.length));
      assert.deepEqual(modules.sort(), [...sources].sort(), `${build} has one module per source`);
    }
  });

  it('declares OpenTelemetry as peer ranges and the frameworks and sdk-node as optional peers', async () => {
    const manifest = JSON.parse(await sh('tar', ['-xzOf', tarball, 'package/package.json'], work)) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    const openTelemetry = Object.keys(manifest.dependencies).filter(
      (name) => name.startsWith('@opentelemetry/') && name !== '@opentelemetry/semantic-conventions',
    );
    assert.deepEqual(openTelemetry, [], 'no OpenTelemetry SDK package is a hard dependency');
    for (const name of ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/core']) {
      assert.match(manifest.peerDependencies[name] ?? '', /^[\^>~]/, `${name} is a peer range`);
    }
    for (const name of ['@opentelemetry/sdk-node', 'express', 'fastify']) {
      assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is optional`);
    }
  });
});

describe('a CommonJS project with Fastify only and its own SDK', () => {
  let dir: string;
  before(
    async () => {
      dir = join(work, 'cjs-fastify');
      mkdirSync(dir);
      writeFiles(dir, {
        'package.json': JSON.stringify({
          name: 'cjs-fastify',
          private: true,
          type: 'commonjs',
          dependencies: {
            '@crumbtrail/instrumentation': `file:${tarball}`,
            '@types/node': '^20.19.0',
            fastify: '^5.0.0',
          },
        }),
        'main.js': `
const { trace } = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { recordApiCall, ATTR_CRUMBTRAIL_EVENT_NAME, createAuditSpanProcessor } = require('@crumbtrail/instrumentation');
const { auditPlugin } = require('@crumbtrail/instrumentation/fastify');
const { auditHandler } = require('@crumbtrail/instrumentation/http');
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const value = recordApiCall({ eventName: 'ListUsers' }, () => 42);
let sdk;
try { require('@crumbtrail/instrumentation/sdk'); sdk = 'loaded'; } catch (error) { sdk = error.code; }
console.log(JSON.stringify({
  value,
  names: exporter.getFinishedSpans().map((span) => span.attributes[ATTR_CRUMBTRAIL_EVENT_NAME]),
  adapters: [typeof auditPlugin, typeof auditHandler, typeof createAuditSpanProcessor],
  sdk,
}));
`,
        'app.ts': `
import Fastify from 'fastify';
import { createServer } from 'node:http';
import { identityFromApiKey, recordApiCall } from '@crumbtrail/instrumentation';
import type { AuditIdentity } from '@crumbtrail/instrumentation';
import { auditPlugin } from '@crumbtrail/instrumentation/fastify';
import type { FastifyRouteOptions } from '@crumbtrail/instrumentation/fastify';
import { auditHandler } from '@crumbtrail/instrumentation/http';

const app = Fastify();
const route: FastifyRouteOptions = { eventName: 'CreateUser' };
void app.register(auditPlugin, { identity: identityFromApiKey({ lookup: (): AuditIdentity | undefined => undefined }) });
app.post('/users', { config: { audit: route } }, async () => ({ ok: true }));
createServer(
  auditHandler({ eventName: 'Ping' }, (_request, response) => {
    response.end();
  }),
);
const count: number = recordApiCall({ eventName: 'CountUsers' }, () => 1);
console.log(count);
`,
        'tsconfig.commonjs.json': tsconfig('commonjs', undefined, ['app.ts']),
        'tsconfig.node16.json': tsconfig('node16', 'node16', ['app.ts']),
      });
      await sh('npm', NPM_INSTALL, dir);
    },
    { timeout: STEP_TIMEOUT_MS },
  );

  it('require()s the package and its subpaths, without sdk-node', { timeout: STEP_TIMEOUT_MS }, async () => {
    const result = JSON.parse(await sh(process.execPath, ['main.js'], dir)) as unknown;
    assert.deepEqual(result, {
      value: 42,
      names: ['ListUsers'],
      adapters: ['function', 'function', 'function'],
      // Only the NodeSDK setup needs @opentelemetry/sdk-node, and says so when it is missing.
      sdk: 'MODULE_NOT_FOUND',
    });
  });

  it('compiles with TypeScript module commonjs', { timeout: STEP_TIMEOUT_MS }, async () => {
    await typecheck(dir, 'tsconfig.commonjs.json');
  });

  it('compiles with TypeScript module node16', { timeout: STEP_TIMEOUT_MS }, async () => {
    await typecheck(dir, 'tsconfig.node16.json');
  });
});

describe('an ES module project with Express and the NodeSDK setup', () => {
  let dir: string;
  before(
    async () => {
      dir = join(work, 'esm-express');
      mkdirSync(dir);
      writeFiles(dir, {
        'package.json': JSON.stringify({
          name: 'esm-express',
          private: true,
          type: 'module',
          dependencies: {
            '@crumbtrail/instrumentation': `file:${tarball}`,
            '@opentelemetry/sdk-node': '>=0.200.0 <1',
            '@types/express': '^5.0.0',
            '@types/node': '^20.19.0',
            express: '^5.0.0',
          },
        }),
        'main.mjs': `
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_CRUMBTRAIL_EVENT_NAME } from '@crumbtrail/instrumentation';
import { auditMiddleware, audit } from '@crumbtrail/instrumentation/express';
import { startAuditTrail } from '@crumbtrail/instrumentation/sdk';
import express from 'express';
const exporter = new InMemorySpanExporter();
const trail = startAuditTrail({ serviceName: 'users', exporter, flushOnExit: false });
const app = express();
app.use(auditMiddleware());
app.get('/users/:id', audit({ eventName: 'GetUser' }), (request, response) => response.json({ id: request.params.id }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const response = await fetch('http://127.0.0.1:' + server.address().port + '/users/7');
await response.text();
await new Promise((resolve) => server.close(resolve));
await trail.forceFlush();
console.log(JSON.stringify({ status: response.status, names: exporter.getFinishedSpans().map((span) => span.attributes[ATTR_CRUMBTRAIL_EVENT_NAME]) }));
await trail.shutdown();
`,
        'app.ts': `
import express from 'express';
import { recordApiCall } from '@crumbtrail/instrumentation';
import { audit, auditErrorHandler, auditMiddleware } from '@crumbtrail/instrumentation/express';
import { startAuditTrail } from '@crumbtrail/instrumentation/sdk';
import type { AuditTrail } from '@crumbtrail/instrumentation/sdk';

const trail: AuditTrail = startAuditTrail({ serviceName: 'users' });
const app = express();
app.use(auditMiddleware({ identity: (req) => ({ userName: String(req.headers['x-user'] ?? '') }) }));
app.get('/users/:id', audit({ eventName: 'GetUser' }), (req, res) => {
  res.json({ id: req.params.id });
});
app.use(auditErrorHandler());
const users: string[] = await recordApiCall({ eventName: 'ListUsers' }, async () => ['mary']);
console.log(users);
await trail.shutdown();
`,
        'tsconfig.nodenext.json': tsconfig('nodenext', 'nodenext', ['app.ts']),
        'tsconfig.node16.json': tsconfig('node16', 'node16', ['app.ts']),
      });
      await sh('npm', NPM_INSTALL, dir);
    },
    { timeout: STEP_TIMEOUT_MS },
  );

  it('imports the package and records a real Express call', { timeout: STEP_TIMEOUT_MS }, async () => {
    const result = JSON.parse(await sh(process.execPath, ['main.mjs'], dir)) as unknown;
    assert.deepEqual(result, { status: 200, names: ['GetUser'] });
  });

  it('compiles with TypeScript module nodenext', { timeout: STEP_TIMEOUT_MS }, async () => {
    await typecheck(dir, 'tsconfig.nodenext.json');
  });

  it('compiles with TypeScript module node16', { timeout: STEP_TIMEOUT_MS }, async () => {
    await typecheck(dir, 'tsconfig.node16.json');
  });
});
