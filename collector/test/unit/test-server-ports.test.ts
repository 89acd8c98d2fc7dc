/*
 * How the tests' ClickHouse and ZooKeeper servers get their ports (test/support/reserved-ports.ts):
 * a port another test process holds, or something listens on, is never handed out, and a lock
 * left by a process killed with -9 is reclaimed; and a ClickHouse server is ready only when it is
 * the one answering on its port (in CI another process's server answered /ping on it, the new
 * server then died of "Address already in use", and the tests talked to a stranger).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { exitOf, killedOnExit } from '../support/child-processes.js';
import { startClickHouseServer } from '../support/clickhouse-server.js';
import { RESERVED_PORT_RANGE, releasePorts, reservePorts } from '../support/reserved-ports.js';

const HOLDER = `
import { reservePorts } from ${JSON.stringify(new URL('../support/reserved-ports.ts', import.meta.url).href)};
const ports = await reservePorts(1, [Number(process.env.PORT_TO_HOLD)]);
process.stdout.write(ports.join(',') + '\\n');
setInterval(() => {}, 1000);
`;

/** A separate process that reserves `port` and keeps it until killed. */
async function holderOf(port: number): Promise<{ kill(): Promise<void> }> {
  const child = killedOnExit(
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLDER], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PORT_TO_HOLD: String(port) },
    }),
  );
  const line = await new Promise<string>((resolveLine, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolveLine(text.trim());
    });
    child.once('exit', (code) => {
      reject(new Error(`holder exited with ${code}`));
    });
  });
  assert.equal(line, String(port));
  return {
    async kill() {
      child.kill('SIGKILL');
      await exitOf(child);
    },
  };
}

/** Two ports no other test process uses (reserved, then released for the test to play with). */
async function twoPortsFreedForTheTest(): Promise<[number, number]> {
  const [first, second] = await reservePorts(2);
  assert.ok(first !== undefined && second !== undefined);
  releasePorts([first, second]);
  return [first, second];
}

describe('reserved test ports', () => {
  const mine: number[] = [];
  after(() => {
    releasePorts(mine);
  });

  it('hands out distinct ports below the kernel ephemeral range, which bind(0) never picks', async () => {
    const [ephemeralFirst] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    assert.ok(
      RESERVED_PORT_RANGE.last < Number(ephemeralFirst),
      `ephemeral range starts at ${ephemeralFirst}`,
    );
    const ports = await reservePorts(6);
    mine.push(...ports);
    assert.equal(new Set(ports).size, 6);
    for (const port of ports) {
      assert.ok(port >= RESERVED_PORT_RANGE.first && port <= RESERVED_PORT_RANGE.last, String(port));
    }
  });

  it('skips a port another process holds, and reclaims it once that process was killed with -9', async () => {
    const [held, spare] = await twoPortsFreedForTheTest();
    const holder = await holderOf(held);
    try {
      const first = await reservePorts(1, [held, spare]);
      mine.push(...first);
      assert.deepEqual(first, [spare]);
    } finally {
      await holder.kill();
    }
    const second = await reservePorts(1, [held]);
    mine.push(...second);
    assert.deepEqual(second, [held]);
  });

  it('skips a port something listens on, and does not hand out a port twice', async () => {
    const [busy, free] = await twoPortsFreedForTheTest();
    const listener: Server = createServer();
    await new Promise<void>((resolveListen) => listener.listen(busy, '127.0.0.1', resolveListen));
    try {
      const ports = await reservePorts(1, [busy, free]);
      mine.push(...ports);
      assert.deepEqual(ports, [free]);
      await assert.rejects(reservePorts(1, [busy, free]), /could not reserve 1 free ports/);
    } finally {
      await new Promise((resolveClose) => listener.close(resolveClose));
    }
  });
});

describe('a test ClickHouse server', { timeout: 120_000 }, () => {
  it('is not ready while another process answers on its HTTP port', async () => {
    const [port = 0] = await reservePorts(1);
    // Anything that answers /ping with 200, as another ClickHouse server does.
    const impostor = createHttpServer((_request, response) => response.end('Ok.\n'));
    await new Promise<void>((resolveListen) => impostor.listen(port, '127.0.0.1', resolveListen));
    try {
      await assert.rejects(
        startClickHouseServer({ httpPort: port }),
        /Address already in use|another process answers/,
      );
    } finally {
      await new Promise((resolveClose) => impostor.close(resolveClose));
      releasePorts([port]);
    }
  });
});
