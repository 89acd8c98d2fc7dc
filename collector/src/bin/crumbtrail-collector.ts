import { collectorCommand, configFromCommand } from '../cli/collector-command.js';
import { startCollector } from '../collector-service.js';
import { fullDdl } from '../store/clickhouse/clickhouse-schema.js';

const command = collectorCommand().parse();
if (command.getOptionValue('printClickhouseDdl') === true) {
  // For DBAs who create the schema themselves; the collector then finds it current.
  const { database, cluster } = configFromCommand(command).clickhouse;
  process.stdout.write(fullDdl(cluster === undefined ? { database } : { database, cluster }));
  process.exit(0);
}
const collector = await startCollector(configFromCommand(command));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // Stop accepting, commit what was acknowledged-in-flight, close the store; then exit.
    collector.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
