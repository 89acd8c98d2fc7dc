/*
 * The keys that sign a trail's digests. The collector makes an RSA key pair the first time and a
 * new one every rotation period; the private key lives in one PEM file (mode 0600, refused if
 * others can read it), and every public key it ever had, with when it was valid, in a JSON file
 * beside it, which ListPublicKeys serves. Neither belongs in the trail folder: whoever can write
 * the archive must not be able to re-sign it, nor to swap the keys it is checked with.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isMissing, writeFileDurably } from './trail-folder.js';

export interface PublicKeyEntry {
  /** 32 hex characters: the first half of the SHA-256 of the key's DER (CloudTrail's are 32 hex too). */
  fingerprint: string;
  /** The PKCS#1 DER public key, base64. */
  value: string;
  validityStartMs: number;
  /** When a newer key replaced it; undefined for the current key. */
  validityEndMs?: number;
}

export interface SigningKey {
  privateKey: KeyObject;
  fingerprint: string;
}

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

export function publicKeyEntryOf(publicKey: KeyObject, validityStartMs: number): PublicKeyEntry {
  const der = publicKey.export({ type: 'pkcs1', format: 'der' });
  return {
    fingerprint: createHash('sha256').update(der).digest('hex').slice(0, 32),
    value: der.toString('base64'),
    validityStartMs,
  };
}

export function publicKeysPathOf(privateKeyPath: string): string {
  return `${privateKeyPath}.public-keys.json`;
}

/** Every public key of a key file's history (empty when there is none yet). */
export async function readPublicKeys(path: string): Promise<PublicKeyEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  const parsed = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new SigningKeyError(`${path}: expected {"keys": [...]}`);
  return parsed.keys as PublicKeyEntry[];
}

export interface KeyringOptions {
  privateKeyPath: string;
  rotationMs: number;
  now: () => number;
}

export class SigningKeyring {
  private current: SigningKey | undefined;
  private history: PublicKeyEntry[] = [];

  constructor(private readonly options: KeyringOptions) {}

  private get publicKeysPath(): string {
    return publicKeysPathOf(this.options.privateKeyPath);
  }

  /** The key to sign with now: made, or rotated, first when needed. */
  async signingKey(): Promise<SigningKey> {
    if (this.current === undefined) await this.load();
    const entry = this.history.find((candidate) => candidate.fingerprint === this.current?.fingerprint);
    if (
      this.current === undefined ||
      entry === undefined ||
      this.options.now() - entry.validityStartMs >= this.options.rotationMs
    ) {
      await this.generate();
    }
    if (this.current === undefined) throw new SigningKeyError('no signing key');
    return this.current;
  }

  /** Every public key whose validity overlaps [fromMs, toMs]. */
  async publicKeys(fromMs: number, toMs: number): Promise<PublicKeyEntry[]> {
    if (this.current === undefined) await this.load();
    return this.history.filter(
      (entry) => entry.validityStartMs <= toMs && (entry.validityEndMs ?? Number.POSITIVE_INFINITY) >= fromMs,
    );
  }

  /** When the current key is due to be replaced (what ListPublicKeys shows as its end). */
  plannedEndMs(entry: PublicKeyEntry): number {
    return entry.validityEndMs ?? entry.validityStartMs + this.options.rotationMs;
  }

  private async load(): Promise<void> {
    const path = this.options.privateKeyPath;
    this.history = await readPublicKeys(this.publicKeysPath);
    let pem: string;
    let stat;
    try {
      [pem, stat] = await Promise.all([fs.readFile(path, 'utf8'), fs.stat(path)]);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new SigningKeyError(
        `${path} can be read by others (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 it, or remove it to have a new key made`,
      );
    }
    const privateKey = createPrivateKey(pem);
    const entry = publicKeyEntryOf(createPublicKey(privateKey), stat.mtimeMs);
    this.current = { privateKey, fingerprint: entry.fingerprint };
    // A crash between writing a new key and recording it: record it now.
    if (!this.history.some((known) => known.fingerprint === entry.fingerprint)) {
      this.closeOpenEntries(entry.validityStartMs);
      this.history.push(entry);
      await this.saveHistory();
    }
  }

  private async generate(): Promise<void> {
    const now = this.options.now();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const entry = publicKeyEntryOf(publicKey, now);
    // The private key first: if the history write is lost, load() records the key from its file.
    await writeFileDurably(
      this.options.privateKeyPath,
      privateKey.export({ type: 'pkcs1', format: 'pem' }),
      0o600,
    );
    await fs.chmod(this.options.privateKeyPath, 0o600);
    this.closeOpenEntries(now);
    this.history.push(entry);
    await this.saveHistory();
    this.current = { privateKey, fingerprint: entry.fingerprint };
  }

  private closeOpenEntries(endMs: number): void {
    for (const entry of this.history) entry.validityEndMs ??= endMs;
  }

  private async saveHistory(): Promise<void> {
    await writeFileDurably(this.publicKeysPath, `${JSON.stringify({ keys: this.history }, null, 2)}\n`);
  }
}
