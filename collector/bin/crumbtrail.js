#!/usr/bin/env node
// The `crumbtrail` command-line client (lookup-events). This committed shim exists so npm can
// link the command before the TypeScript is built.
import { runBuilt } from './run-built.js';

await runBuilt('crumbtrail');
