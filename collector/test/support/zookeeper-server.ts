/*
 * A real ZooKeeper (Debian's zookeeper 3.8 on the machine's Java) for ReplicatedMergeTree and
 * ON CLUSTER DDL: data in a temp dir, an reserved client port, killed whatever the outcome.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killedOnExit, stopChild } from './child-processes.js';
import { releasePorts, reservePorts } from './reserved-ports.js';

export interface ZooKeeperServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Whether ZooKeeper serves clients: "srvr" names its mode only then. ("ruok" says "imok" as soon
 * as the process runs, before it serves; 18.16 servers that connected in that window crashed in
 * their DDLWorker, a NULL read in zkutil::ZooKeeper::createImpl.)
 */
function serving(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, '127.0.0.1', () => socket.end('srvr'));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => {
      resolveAnswer(answer.includes('Mode: '));
    });
    socket.on('error', () => {
      resolveAnswer(false);
    });
  });
}

export async function startZooKeeper(): Promise<ZooKeeperServer> {
  const dir = mkdtempSync(join(tmpdir(), 'crumbtrail-zookeeper-'));
  const [port = 0] = await reservePorts(1);
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      // The default tick: sessions may last up to 40 s (20 ticks), so a loaded machine keeps them.
      'tickTime=2000',
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=srvr',
      '',
    ].join('\n'),
  );
  const child = killedOnExit(
    spawn(
      'java',
      [
        '-cp',
        '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar',
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        join(dir, 'zoo.cfg'),
      ],
      { cwd: dir, stdio: 'ignore' },
    ),
  );
  const deadline = Date.now() + 30_000;
  while (!(await serving(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      releasePorts([port]);
      throw new Error('ZooKeeper did not start within 30 s');
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  return {
    port,
    async stop() {
      await stopChild(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
      releasePorts([port]);
    },
  };
}
