// Pretest step: makes sure the Debian packages the test suite runs for real are installed.
// The list lives in the root package.json ("crumbtrail.testDebianPackages": [{ "package", "command" }]).
// Missing ones are installed with apt-get when running as root; otherwise the step fails naming them.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
/** @type {{ package: string, command: string }[]} */
const required = manifest.crumbtrail?.testDebianPackages ?? [];

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const missing = required.filter((entry) => !commandExists(entry.command));
if (missing.length === 0) process.exit(0);

const names = missing.map((entry) => entry.package);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !commandExists('apt-get')) {
  console.error(
    `The tests need these Debian packages, which are not installed: ${names.join(', ')}.\n` +
      `Install them with: sudo apt-get install -y ${names.join(' ')}`,
  );
  process.exit(1);
}

console.log(`Installing Debian packages the tests need: ${names.join(', ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'inherit', env });
} catch {
  console.error(`apt-get could not install: ${names.join(', ')}. Install them and run the tests again.`);
  process.exit(1);
}
const stillMissing = missing.filter((entry) => !commandExists(entry.command));
if (stillMissing.length > 0) {
  console.error(`Installed, but still not on PATH: ${stillMissing.map((entry) => entry.command).join(', ')}`);
  process.exit(1);
}
