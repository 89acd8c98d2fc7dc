/*
 * The trail folder: an object store on a local directory, keyed like S3. An object is a file at
 * its key; its metadata (S3's x-amz-meta-*, and its ETag) is a JSON file beside it under
 * `.crumbtrail/metadata/`, which no listing shows and no reader can fetch. Writes are atomic and
 * durable: a temporary file is fsynced and renamed over, then the directory is fsynced, so after a
 * crash a key holds either nothing or the whole object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Where crumbtrail keeps what belongs to the folder but is not an object (state, metadata). */
export const PRIVATE_DIR = '.crumbtrail';
const METADATA_DIR = join(PRIVATE_DIR, 'metadata');
const TEMP_MARKER = '.tmp-';

export interface StoredObject {
  body: Buffer;
  metadata: Record<string, string>;
  etag: string;
  lastModifiedMs: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModifiedMs: number;
  etag: string;
}

/** Keys are S3 keys of the trail's namespace: no empty, dot or private segments. */
export function isServableKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024 || key.includes('\\') || key.includes('\u0000')) return false;
  const segments = key.split('/');
  return (
    segments.every(
      (segment) =>
        segment.length > 0 && segment !== '.' && segment !== '..' && !segment.includes(TEMP_MARKER),
    ) && segments[0] !== PRIVATE_DIR
  );
}

/** Writes a file so that it is either absent or complete and on disk, whatever crashes when. */
export async function writeFileDurably(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  const handle = await fs.open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, path);
  const directory = await fs.open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

export class TrailFolder {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    if (!isServableKey(key)) throw new Error(`not a key of the trail folder: ${JSON.stringify(key)}`);
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`key escapes the trail folder: ${key}`);
    return path;
  }

  private metadataPathOf(key: string): string {
    return join(this.root, METADATA_DIR, `${key}.json`);
  }

  /** A path under the folder's private directory (never listed, never served). */
  privatePath(name: string): string {
    return join(this.root, PRIVATE_DIR, name);
  }

  /** Writes the object; its metadata first, so that an object never exists without it. */
  async put(key: string, body: Buffer, metadata: Record<string, string> = {}): Promise<void> {
    const etag = createHash('md5').update(body).digest('hex');
    await writeFileDurably(this.metadataPathOf(key), JSON.stringify({ etag, metadata }));
    await writeFileDurably(this.pathOf(key), body);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  /** The object at key, or undefined when there is none. */
  async get(key: string): Promise<StoredObject | undefined> {
    if (!isServableKey(key)) return undefined;
    let body: Buffer;
    let lastModifiedMs: number;
    try {
      const path = this.pathOf(key);
      [body, lastModifiedMs] = await Promise.all([fs.readFile(path), fs.stat(path).then((s) => s.mtimeMs)]);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const stored = await this.readMetadata(key);
    return {
      body,
      lastModifiedMs,
      metadata: stored?.metadata ?? {},
      etag: stored?.etag ?? createHash('md5').update(body).digest('hex'),
    };
  }

  private async readMetadata(
    key: string,
  ): Promise<{ etag: string; metadata: Record<string, string> } | undefined> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.metadataPathOf(key), 'utf8')) as {
        etag?: unknown;
        metadata?: unknown;
      };
      const metadata: Record<string, string> = {};
      if (typeof parsed.metadata === 'object' && parsed.metadata !== null) {
        for (const [name, value] of Object.entries(parsed.metadata)) {
          if (typeof value === 'string') metadata[name] = value;
        }
      }
      return { etag: typeof parsed.etag === 'string' ? parsed.etag : '', metadata };
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /**
   * Keys after `marker` that start with `prefix`, in S3's (byte) order, at most `maxKeys`, and
   * whether more follow. Only the directories the prefix can reach are walked.
   */
  async list(
    prefix: string,
    marker: string,
    maxKeys: number,
  ): Promise<{ objects: ListedObject[]; truncated: boolean }> {
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = base.length === 0 ? this.root : resolve(this.root, base);
    if (base.length > 0 && !isServableKey(base.slice(0, -1))) return { objects: [], truncated: false };
    let names: string[];
    try {
      names = (await fs.readdir(start, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    } catch (error) {
      if (isMissing(error)) return { objects: [], truncated: false };
      throw error;
    }
    const keys = names
      .filter((key) => key.startsWith(prefix) && key > marker && isServableKey(key))
      .sort(byteOrder);
    const page = keys.slice(0, maxKeys);
    const objects = await Promise.all(
      page.map(async (key): Promise<ListedObject> => {
        const [stat, metadata] = await Promise.all([fs.stat(this.pathOf(key)), this.readMetadata(key)]);
        return { key, size: stat.size, lastModifiedMs: stat.mtimeMs, etag: metadata?.etag ?? '' };
      }),
    );
    return { objects, truncated: keys.length > page.length };
  }

  /** Removes temporary files a crash left behind (never an object). */
  async removeLeftovers(): Promise<number> {
    let removed = 0;
    try {
      for (const entry of await fs.readdir(this.root, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && entry.name.includes(TEMP_MARKER)) {
          await fs.rm(join(entry.parentPath, entry.name), { force: true });
          removed++;
        }
      }
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    return removed;
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
