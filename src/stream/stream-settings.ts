import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { runtimeDir } from '../config/runtime-dir.js';
import type { Logger } from '../log.js';
import { fsyncDir, setAside, TEMP_PREFIX, writeFileAtomic } from '../presets/atomic-file.js';
import { DEFAULT_STREAM_SETTINGS, StreamSettingsSchema, type StreamSettings } from './schema.js';

export const STREAM_SETTINGS_FILE = 'stream.json';
export const STREAM_TOKEN_FILE = 'stream-token';

/**
 * Where the stream's Unix socket goes: $HUSHBOX_STREAM_SOCKET; on the box (data
 * directory /data) /run/hushbox/audio.sock; elsewhere <data dir>/audio.sock, so
 * that two supervisors on two data directories (tests, a developer's runs) never meet.
 */
export function streamSocketPath(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  if (env.HUSHBOX_STREAM_SOCKET) return env.HUSHBOX_STREAM_SOCKET;
  if (resolve(dataDir) === '/data') return join(runtimeDir(env), 'audio.sock');
  return join(dataDir, 'audio.sock');
}

/** The saved settings, or the defaults. A file that does not validate is set aside (named in the log). */
export function loadStreamSettings(dataDir: string, log: Logger): StreamSettings {
  const path = join(dataDir, STREAM_SETTINGS_FILE);
  if (!existsSync(path)) return structuredClone(DEFAULT_STREAM_SETTINGS);
  let problem: string;
  try {
    const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (Value.Check(StreamSettingsSchema, data)) return data;
    problem = [...Value.Errors(StreamSettingsSchema, data)].map((e) => `${e.path.slice(1) || 'file'}: ${e.message}`).join('; ');
  } catch (err) {
    problem = (err as Error).message;
  }
  const aside = setAside(path, join(dataDir, 'broken'));
  log.warn({ file: path, movedTo: aside, problem }, 'the saved stream settings are unreadable; using the defaults');
  return structuredClone(DEFAULT_STREAM_SETTINGS);
}

export function saveStreamSettings(dataDir: string, settings: StreamSettings): void {
  writeFileAtomic(join(dataDir, STREAM_SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
}

/** A new random TCP stream token, written (owner-only) where the engine reads it at each client's login. */
export function newStreamToken(dataDir: string): string {
  const token = randomBytes(24).toString('base64url');
  const tmp = join(dataDir, `${TEMP_PREFIX}${STREAM_TOKEN_FILE}.${process.pid}`);
  const fd = openSync(tmp, 'w', 0o600); // never readable by others, not even for a moment
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dataDir, STREAM_TOKEN_FILE));
  fsyncDir(dataDir);
  return token;
}
