/*
 * The repository files the provisioning tests read: where they are, and parsing them (YAML with
 * the `yaml` package, strict about duplicate keys; JSON with JSON.parse).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PROVISIONING_DIR = join(REPO_ROOT, 'provisioning');

/** Folders holding provisioning files (the tests folder holds TypeScript and tsconfig only). */
const PROVISIONING_FOLDERS = ['datasources', 'dashboards', 'alerting', 'prometheus'];

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function relativeToRepo(path: string): string {
  return relative(REPO_ROOT, path);
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Every YAML and JSON file Grafana, Prometheus or promtool reads from provisioning/. */
export function provisioningFiles(): string[] {
  return PROVISIONING_FOLDERS.flatMap((folder) => filesUnder(join(PROVISIONING_DIR, folder))).filter((file) =>
    ['.yml', '.yaml', '.json'].includes(extname(file)),
  );
}

export function parseText(text: string, fileName: string): unknown {
  if (extname(fileName) === '.json') return JSON.parse(text);
  return parseYaml(text, { strict: true, uniqueKeys: true, prettyErrors: true });
}

export function readParsed(path: string): unknown {
  return parseText(readFileSync(path, 'utf8'), path);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}
