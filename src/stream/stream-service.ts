import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineService } from '../engine/engine-service.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext } from '../service.js';
import type { StreamPatch, StreamSettings, StreamStatus } from './schema.js';
import { STREAM_TOKEN_FILE, loadStreamSettings, newStreamToken, saveStreamSettings, streamSocketPath } from './stream-settings.js';

/**
 * The clean-voice audio stream (Wyoming protocol). The engine serves it
 * itself, from its tap thread: the audio never passes through this process.
 * This service keeps the settings, turns them into the engine's options, and
 * reports what the engine counts.
 */
export class StreamService implements Service {
  readonly name = 'stream';
  private readonly log: Logger;
  private settings: StreamSettings | undefined;

  constructor(private readonly deps: { ctx: ServiceContext; engine: EngineService }) {
    this.log = deps.ctx.log.child({ service: this.name });
  }

  async start(): Promise<void> {
    this.current();
  }

  async stop(): Promise<void> {}

  socketPath(): string {
    return streamSocketPath(this.deps.ctx.dataDir);
  }

  private tokenFile(): string {
    return join(this.deps.ctx.dataDir, STREAM_TOKEN_FILE);
  }

  private current(): StreamSettings {
    this.settings ??= loadStreamSettings(this.deps.ctx.dataDir, this.log);
    return this.settings;
  }

  /** [control] The engine's command-line options for the stream (asked at every engine start). */
  engineArgs(): string[] {
    const s = this.current();
    const args = ['--tap-socket', this.socketPath(), '--tap-source', s.source, '--tap-rate', String(s.rate), '--tap-format', s.format,
      '--tap-stuck-ms', String(s.stuckMs), '--tap-backlog-ms', String(s.backlogMs)];
    if (s.tcp.enabled) {
      if (!existsSync(this.tokenFile())) newStreamToken(this.deps.ctx.dataDir);
      const host = s.tcp.host.includes(':') ? `[${s.tcp.host}]` : s.tcp.host;
      args.push('--tap-tcp', `${host}:${s.tcp.port}`, '--tap-token-file', this.tokenFile());
    }
    return args;
  }

  status(): StreamStatus {
    return { settings: this.current(), socket: this.socketPath(), tokenSet: existsSync(this.tokenFile()), engine: this.deps.engine.stream() };
  }

  /**
   * Change the settings (kept in <data>/stream.json). The source switches at
   * once; the rest is the engine's command line, so the engine restarts.
   */
  async update(patch: StreamPatch): Promise<StreamStatus> {
    const before = this.current();
    const next: StreamSettings = { ...before, ...patch, tcp: { ...before.tcp, ...patch.tcp } };
    saveStreamSettings(this.deps.ctx.dataDir, next);
    this.settings = next;
    const { source: _a, ...restBefore } = before;
    const { source: _b, ...restNext } = next;
    if (JSON.stringify(restBefore) !== JSON.stringify(restNext)) {
      this.log.info({ settings: next }, 'stream settings changed; restarting the engine');
      await this.deps.engine.restart('stream settings changed');
    } else if (before.source !== next.source) {
      this.deps.engine.setStreamSource(next.source);
    }
    return this.status();
  }

  /** A new TCP token; the old one stops working for new connections at once (the engine reads the file at each login). */
  rotateToken(): string {
    return newStreamToken(this.deps.ctx.dataDir);
  }
}
