// Removes both builds before `npm pack` rebuilds them, so a file left by a renamed or deleted source
// never ends up in the tarball. dist-cjs/package.json (committed) is what makes dist-cjs CommonJS.
import { readdirSync, rmSync } from 'node:fs';

for (const dir of ['dist', 'build-info']) rmSync(dir, { recursive: true, force: true });
for (const entry of readdirSync('dist-cjs')) {
  if (entry !== 'package.json') rmSync(`dist-cjs/${entry}`, { recursive: true, force: true });
}
