import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AuthError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { AuditLog } from '../presets/audit-log.js';
import { setAside, writeFileAtomic } from '../presets/atomic-file.js';
import type { Service, ServiceContext } from '../service.js';
import { emptyAuthFile, readAuthFile, type AuthFile, type TokenRecord } from './auth-store.js';
import { hashPassword, passwordProblem, verifyPassword } from './password.js';
import { SessionStore } from './session-store.js';

export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
/** How long an entered password counts as a confirmation for 48V, MSD mode and firmware installs. */
export const CONFIRM_TTL_MS = 5 * 60 * 1000;
export const TOKEN_PREFIX = 'hbx_';
const MAX_TOKENS = 64;
/** lastUsed is kept in memory and written at most this often (not one write per request). */
const LAST_USED_FLUSH_MS = 60_000;

/** A token as the owner sees it: never the secret, never its hash. */
export interface TokenInfo {
  id: string;
  name: string;
  created: string;
  lastUsed: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const info = ({ id, name, created, lastUsed }: TokenRecord): TokenInfo => ({ id, name, created, lastUsed });

/**
 * The owner account: password (scrypt), sessions, API tokens, the /metrics setting, and the
 * reset file on the boot partition. Everything lives in the data directory, written atomically, 0600.
 */
export class AuthService implements Service {
  readonly name = 'auth';
  readonly sessions: SessionStore;
  private readonly log: Logger;
  private readonly audit: AuditLog;
  private readonly file: string;
  private readonly secretFile: string;
  private data: AuthFile = emptyAuthFile();
  private secret = '';
  private started = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: ServiceContext) {
    this.log = ctx.log.child({ service: this.name });
    this.file = join(ctx.dataDir, 'auth.json');
    this.secretFile = join(ctx.dataDir, 'session-secret');
    this.audit = new AuditLog(join(ctx.dataDir, 'audit.log'), this.log);
    this.sessions = new SessionStore(join(ctx.dataDir, 'sessions.json'), SESSION_TTL_MS, this.log, join(ctx.dataDir, 'broken'));
  }

  async start(): Promise<void> {
    if (this.started) return;
    mkdirSync(this.ctx.dataDir, { recursive: true });
    const read = readAuthFile(this.file);
    if (read instanceof Error) {
      // Only root can write here and writes are atomic, so this is damage, not an attack; the box
      // goes back to asking for a password, as after a reset, and says so loudly.
      const movedTo = setAside(this.file, join(this.ctx.dataDir, 'broken'));
      this.log.error({ file: this.file, movedTo, reason: read.message }, `unreadable ${this.file} set aside: the owner password must be set again`);
      this.audit.append({ action: 'auth.broken', source: 'startup', details: { movedTo, reason: read.message } });
    } else if (read) {
      this.data = read;
    }
    this.secret = this.loadSecret();
    this.sessions.load();
    this.resetFromBootPartition();
    this.started = true;
    this.log.info({ owner: this.data.owner !== null, tokens: this.data.tokens.length, sessions: this.sessions.size() }, 'owner account loaded');
  }

  async stop(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.save();
    }
    this.started = false;
  }

  /** The key that signs session cookies: made at first start, kept on the data partition (0600). */
  sessionSecret(): string {
    return this.secret;
  }

  private loadSecret(): string {
    try {
      const s = readFileSync(this.secretFile, 'utf8').trim();
      if (/^[0-9a-f]{64}$/.test(s)) {
        chmodSync(this.secretFile, 0o600);
        return s;
      }
      this.log.error({ file: this.secretFile }, 'session secret malformed: a new one is made (every session ends)');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const s = randomBytes(32).toString('hex');
    try {
      writeFileAtomic(this.secretFile, `${s}\n`, 0o600);
    } catch (err) {
      // A full (or read-only) /data must not keep the box from starting: the key holds for this run,
      // and the sessions signed with it end at the next start, when a new one is made.
      this.log.error({ file: this.secretFile, err: (err as Error).message }, `cannot save the session secret (${(err as NodeJS.ErrnoException).code ?? 'error'}): it is kept in memory, and sessions end at the next start`);
    }
    return s;
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`, 0o600);
  }

  /**
   * A change of the account, kept only if it is saved: a full /data (507) leaves the account as it
   * was, not a password that holds until the next start and is then gone.
   */
  private commit(change: () => void): void {
    const before = structuredClone(this.data);
    change();
    try {
      this.save();
    } catch (err) {
      this.data = before;
      throw err;
    }
  }

  /**
   * Looks for the reset file again (`systemctl reload hushbox`, SIGHUP): the image mounts the boot partition beside
   * the supervisor's start, not before it, and looks again once it is mounted (hushbox-reset-file.service).
   * Answers whether the password was reset.
   */
  lookForResetFile(): boolean {
    if (!this.started) return false;
    const before = this.data.owner;
    this.resetFromBootPartition();
    return before !== null && this.data.owner === null;
  }

  /** A reset file on the boot partition: removed first (so it cannot act twice), then the password is gone. */
  private resetFromBootPartition(): void {
    for (const path of this.ctx.config.auth?.resetFiles ?? []) {
      if (!existsSync(path)) continue;
      let content = '';
      try {
        content = readFileSync(path, 'utf8').split(/\r?\n/)[0].trim();
        unlinkSync(path);
      } catch (err) {
        // A file that stays would reset the password at every start: refuse rather than leave the box open.
        this.log.error({ path, err }, `reset file ${path} found but it cannot be read and removed (read-only?): the password is NOT reset`);
        this.audit.append({ action: 'auth.reset_refused', source: 'reset-file', details: { path, reason: (err as Error).message } });
        continue;
      }
      this.data.owner = null;
      try {
        this.save();
      } catch (err) {
        // A full /data must not keep the box from starting: the reset holds for this run (the file is
        // gone, so it cannot act twice), and the old password comes back at the next start.
        this.log.error({ path, err: (err as Error).message }, `cannot save the password reset (${(err as NodeJS.ErrnoException).code ?? 'error'}): it holds until the next start only; make room on the data partition`);
      }
      const ended = this.sessions.destroyAll();
      this.log.warn({ path, sessions: ended }, `owner password reset by ${path}: the page asks for a new one`);
      this.audit.append({ action: 'auth.reset', source: 'reset-file', details: { path, sessionsEnded: ended, tokensKept: this.data.tokens.length } });
      if (content) this.log.warn({ path }, 'the reset file had content; it is ignored: the new password is set on the page');
      return;
    }
  }

  /** Whether the owner has set a password (until then only onboarding and public routes answer). */
  hasOwner(): boolean {
    return this.data.owner !== null;
  }

  /** The first password (onboarding); refused once there is one. */
  async setOwnerPassword(password: string): Promise<void> {
    if (this.data.owner) throw new AuthError('already_set_up', 'the owner password is already set; log in, or use the reset file', 409);
    const problem = passwordProblem(password);
    if (problem) throw new ValidationError(problem);
    const hash = await hashPassword(password);
    // Two onboarding requests racing: the first one wins.
    if (this.data.owner) throw new AuthError('already_set_up', 'the owner password is already set; log in, or use the reset file', 409);
    this.commit(() => (this.data.owner = { hash, changed: new Date().toISOString() }));
    this.audit.append({ action: 'auth.onboard', source: 'http' });
  }

  /** Whether `password` is the owner's (false when there is no owner). */
  async checkPassword(password: string): Promise<boolean> {
    const owner = this.data.owner;
    if (!owner || typeof password !== 'string') return false;
    return verifyPassword(password, owner.hash);
  }

  /** Needs the current password; ends every session but `keepSession`. */
  async changePassword(current: string, next: string, keepSession?: string): Promise<{ sessionsEnded: number }> {
    if (!(await this.checkPassword(current))) throw new AuthError('wrong_password', 'the current password is wrong', 403);
    const problem = passwordProblem(next);
    if (problem) throw new ValidationError(problem);
    const hash = await hashPassword(next);
    this.commit(() => (this.data.owner = { hash, changed: new Date().toISOString() }));
    const sessionsEnded = this.sessions.destroyAll(keepSession);
    this.audit.append({ action: 'auth.password', source: 'http', details: { sessionsEnded } });
    return { sessionsEnded };
  }

  tokens(): TokenInfo[] {
    return this.data.tokens.map(info);
  }

  /** A new token: the secret is in the answer and nowhere else. */
  createToken(name: string): TokenInfo & { token: string } {
    const clean = name.trim();
    if (!clean) throw new ValidationError('name: a token needs a name (e.g. home-assistant)');
    if (this.data.tokens.some((t) => t.name === clean)) throw new ConflictError(`name: a token named '${clean}' exists; revoke it or pick another name`);
    if (this.data.tokens.length >= MAX_TOKENS) throw new ConflictError(`at most ${MAX_TOKENS} tokens; revoke one first`);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const rec: TokenRecord = { id: randomBytes(6).toString('hex'), name: clean, hash: sha256(token), created: new Date().toISOString(), lastUsed: null };
    this.commit(() => this.data.tokens.push(rec));
    this.audit.append({ action: 'auth.token.create', source: 'http', id: rec.id, name: rec.name });
    return { ...info(rec), token };
  }

  revokeToken(id: string): TokenInfo {
    const i = this.data.tokens.findIndex((t) => t.id === id);
    if (i < 0) throw new NotFoundError(`no token with id ${id}`);
    const rec = this.data.tokens[i];
    this.commit(() => this.data.tokens.splice(i, 1));
    this.audit.append({ action: 'auth.token.revoke', source: 'http', id: rec.id, name: rec.name });
    return info(rec);
  }

  /** The token a bearer secret belongs to, or undefined; marks it used. */
  authenticateToken(secret: string): TokenInfo | undefined {
    if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
    const h = Buffer.from(sha256(secret), 'hex');
    const rec = this.data.tokens.find((t) => timingSafeEqual(Buffer.from(t.hash, 'hex'), h));
    if (!rec) return undefined;
    rec.lastUsed = new Date().toISOString();
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      try {
        this.save();
      } catch (err) {
        this.log.warn({ err }, 'cannot record when tokens were last used');
      }
    }, LAST_USED_FLUSH_MS).unref();
    return info(rec);
  }

  metricsPublic(): boolean {
    return this.data.metricsPublic;
  }

  setMetricsPublic(on: boolean): void {
    if (this.data.metricsPublic === on) return;
    this.commit(() => (this.data.metricsPublic = on));
    this.audit.append({ action: 'settings.metrics', source: 'http', details: { metricsPublic: on } });
  }

  /** A line in the audit log for something the web layer did (login, logout, a request). */
  record(action: string, details?: unknown): void {
    this.audit.append({ action, source: 'http', ...(details === undefined ? {} : { details }) });
  }
}
