/*
 * The benchmark's load generator, in its own process so its CPU is not the server's: keep-alive
 * connections, `concurrency` requests in flight, each worker sending its next request when the
 * previous answer has been read.
 */
import { Agent, request } from 'node:http';
import type { ClientCommand, ClientMessage } from './protocol.js';

function send(message: ClientMessage): void {
  process.send?.(message);
}

const agents = new Map<number, Agent>();

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { agent, host: '127.0.0.1', port, path, headers: { 'x-user': 'bench' } },
      (incoming) => {
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => {
          body += chunk;
        });
        incoming.on('end', () => {
          resolve({ status: incoming.statusCode ?? 0, body });
        });
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function run(command: ClientCommand): Promise<ClientMessage> {
  let agent = agents.get(command.port);
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: command.concurrency });
    agents.set(command.port, agent);
  }
  const started = performance.now();
  let next = 0;
  let failures = 0;
  let probe: string | undefined;
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (next < command.requests) {
        next++;
        try {
          const { status, body } = await get(agent, command.port, command.path);
          if (status !== 200) failures++;
          probe = body;
        } catch {
          failures++;
        }
      }
    }),
  );
  const done: ClientMessage = {
    type: 'done',
    requests: command.requests,
    failures,
    elapsedMs: performance.now() - started,
  };
  if (command.path === '/probe' && probe !== undefined) done.probe = probe;
  return done;
}

process.on('message', (command: ClientCommand) => {
  void run(command).then(send);
});
process.on('disconnect', () => {
  for (const agent of agents.values()) agent.destroy();
});
send({ type: 'ready' });
