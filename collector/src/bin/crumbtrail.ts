/*
 * `crumbtrail`: the command-line client of a collector's query API.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE, lookupEventsCommand, processIo } from '../cli/lookup-events-command.js';
import { validateLogsCommand } from '../cli/validate-logs-command.js';

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const io = processIo();
const program = new Command('crumbtrail')
  .description('Command-line client of a crumbtrail collector.')
  .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
  .exitOverride()
  .addCommand(lookupEventsCommand(io))
  .addCommand(validateLogsCommand(io));

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Commander has printed the message already. Its exit code is 1 for every usage error; 2 is
  // the usual one (and keeps them apart from a failed lookup). Help and --version stay 0.
  io.setExitCode(error.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE);
}
