/*
 * Ports for servers the tests start on fixed ports (ClickHouse and ZooKeeper name their ports in a
 * config file, and a cluster's config names its peers' ports before they start).
 *
 * Probing a port with bind(0) and releasing it is not enough: the kernel hands the same port to the
 * next bind(0) (another test file's collector or server) before the server binds it. In CI the
 * two-shard cluster test lost a server that way: another process answered /ping on its port, the
 * new server died of "Address already in use", and the tests talked to a stranger until it went
 * ("socket hang up", then ECONNREFUSED); clickhouse-server.ts now also checks who answers.
 * So a reserved port is
 *   - outside the kernel's ephemeral range, so bind(0) and outgoing connections never take it;
 *   - held by a lock file (O_EXCL) until released, so no other test process reserves it;
 *   - free when reserved (a plain bind succeeds), so nothing else on the machine listens there.
 * Locks left by a process that died (kill -9 of the runner) are reclaimed when their pid is gone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Below Linux's default ephemeral range (32768–60999) and above the usual service ports. */
export const RESERVED_PORT_RANGE = { first: 20_000, last: 32_000 } as const;

const LOCK_DIR = join(tmpdir(), 'crumbtrail-test-ports');
const heldHere = new Set<number>();

function lockPath(port: number): string {
  return join(LOCK_DIR, String(port));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the port's lock file, reclaiming it from a dead holder; false when someone alive holds it. */
function takeLock(port: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath(port), String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(lockPath(port), 'utf8'));
    } catch {
      continue; // released meanwhile: try again
    }
    // A lock being written (empty for a moment) or held by a live process is not ours to take.
    if (!Number.isSafeInteger(holder) || holder <= 0 || processAlive(holder)) return false;
    rmSync(lockPath(port), { force: true });
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => {
      resolveFree(false);
    });
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      probe.close(() => {
        resolveFree(true);
      });
    });
  });
}

/** Releases ports reserved by this process (idempotent). */
export function releasePorts(ports: Iterable<number>): void {
  for (const port of ports) {
    if (!heldHere.delete(port)) continue;
    rmSync(lockPath(port), { force: true });
  }
}

process.once('exit', () => {
  releasePorts([...heldHere]);
});

function* randomPortsInRange(): Generator<number> {
  const span = RESERVED_PORT_RANGE.last - RESERVED_PORT_RANGE.first + 1;
  for (let tries = 0; tries < 1000; tries++)
    yield RESERVED_PORT_RANGE.first + Math.floor(Math.random() * span);
}

/**
 * `count` distinct ports, each locked for this process until releasePorts. `candidates` (random
 * ports in RESERVED_PORT_RANGE unless given) are tried in order.
 */
export async function reservePorts(
  count: number,
  candidates: Iterable<number> = randomPortsInRange(),
): Promise<number[]> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const reserved: number[] = [];
  for (const port of candidates) {
    if (reserved.length === count) break;
    if (heldHere.has(port) || !takeLock(port)) continue;
    heldHere.add(port);
    if (await bindable(port)) {
      reserved.push(port);
    } else {
      releasePorts([port]);
    }
  }
  if (reserved.length < count) {
    releasePorts(reserved);
    throw new Error(`could not reserve ${count} free ports (got ${reserved.length})`);
  }
  return reserved;
}
