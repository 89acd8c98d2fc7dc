/*
 * Runs the real command-line tools the checks rely on (promtool from Debian's `prometheus`,
 * Debian's `docker-compose`) and returns exit status and output, so a failing check fails the
 * test with the tool's own explanation.
 */
import { spawnSync } from 'node:child_process';

export interface ToolRun {
  status: number | null;
  stdout: string;
  /** stdout and stderr, for failure messages. */
  output: string;
}

/** Runs a command-line tool; a missing tool is an error that names the Debian package to install. */
export function runTool(command: string, args: string[], debianPackage: string, cwd?: string): ToolRun {
  // SIGKILL at the timeout: a tool that ignored SIGTERM would block this (synchronous) call forever.
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  if (result.error !== undefined) {
    throw new Error(
      `${command} could not run (${result.error.message}): install the Debian package ${debianPackage}`,
    );
  }
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

export function promtool(args: string[], cwd?: string): ToolRun {
  return runTool('promtool', args, 'prometheus', cwd);
}

export function dockerCompose(args: string[], cwd?: string): ToolRun {
  return runTool('docker-compose', args, 'docker-compose', cwd);
}
