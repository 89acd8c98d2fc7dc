/*
 * What a trail remembers between runs, in one JSON file in the folder's private directory, always
 * replaced whole (atomically): how far delivery got, the log files the next digest must list, the
 * previous digest the next one chains to, and the step that was under way (an intent written
 * before the step's files), so that a restart after kill -9 finishes or undoes it and the chain
 * neither breaks nor forks.
 */
import { promises as fs } from 'node:fs';
import type { DigestLogFile } from './digest-file.js';
import { isMissing, writeFileDurably } from './trail-folder.js';

export interface PendingLogFile {
  kind: 'log';
  key: string;
  entry: DigestLogFile;
  throughSeq: number;
}

export interface PendingDigest {
  kind: 'digest';
  key: string;
  /** The uncompressed digest, exactly as signed. */
  text: string;
  signature: string;
  endMs: number;
  endTime: string;
}

export interface LastDigest {
  bucket: string;
  key: string;
  signature: string;
  hashValue: string;
  endTime: string;
  endMs: number;
}

export interface TrailState {
  version: 1;
  /** The first digest's start. */
  chainStartMs: number;
  /** Every record committed at or before this commit sequence is in a log file. */
  deliveredThroughSeq: number;
  /** Delivered, in no digest yet. */
  undigested: DigestLogFile[];
  lastDigest: LastDigest | null;
  pending: PendingLogFile | PendingDigest | null;
  /** Set while a collector runs the trail; still set at start means the last run did not stop. */
  running: boolean;
  savedMs: number;
  /** What the next digest must tell (crumbtrailNotes). */
  notes: string[];
}

export function freshState(nowMs: number): TrailState {
  return {
    version: 1,
    chainStartMs: nowMs,
    deliveredThroughSeq: 0,
    undigested: [],
    lastDigest: null,
    pending: null,
    running: false,
    savedMs: nowMs,
    notes: [],
  };
}

export async function readState(path: string): Promise<TrailState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<TrailState>;
  if (state.version !== 1) throw new Error(`${path}: unknown trail state version ${String(state.version)}`);
  return state as TrailState;
}

export async function saveState(path: string, state: TrailState, nowMs: number): Promise<void> {
  state.savedMs = nowMs;
  await writeFileDurably(path, `${JSON.stringify(state, null, 1)}\n`);
}
