/** Errors with a stable `code`, caught at the edges (HTTP, MQTT, bus) and answered there. */
export class HushboxError extends Error {
  /** HTTP status that best answers this error at the API edge. */
  readonly statusCode: number = 500;

  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from outside: names what was wrong. */
export class ValidationError extends HushboxError {
  override readonly statusCode = 400;
  constructor(message: string, details?: unknown) {
    super('invalid_input', message, details);
  }
}

export class NotFoundError extends HushboxError {
  override readonly statusCode = 404;
  constructor(message: string) {
    super('not_found', message);
  }
}

export class ConfigError extends HushboxError {
  constructor(message: string, details?: unknown) {
    super('invalid_config', message, details);
  }
}

/** Another supervisor already holds the data directory. */
export class AlreadyRunningError extends HushboxError {
  override readonly statusCode = 409;
  constructor(message: string) {
    super('already_running', message);
  }
}

export class EngineError extends HushboxError {
  override readonly statusCode = 503;
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** The request clashes with what exists (a name already taken, a read-only preset). */
export class ConflictError extends HushboxError {
  override readonly statusCode = 409;
  constructor(message: string, details?: unknown) {
    super('conflict', message, details);
  }
}

/** The running engine cannot do this (e.g. it has no such parameter). */
export class UnsupportedError extends HushboxError {
  override readonly statusCode = 409;
  constructor(message: string) {
    super('unsupported', message);
  }
}

/** Who is asking is unknown, or may not do this (401/403), or the account is not in the state the request needs (409). */
export class AuthError extends HushboxError {
  override readonly statusCode: number;
  constructor(code: string, message: string, statusCode = 401) {
    super(code, message);
    this.statusCode = statusCode;
  }
}

/** A limit of the box reached (preset count, size): nothing changed; the message says which and how to make room. */
export class LimitError extends HushboxError {
  override readonly statusCode = 409;
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** The data partition is too full for this change; nothing was written. */
export class NoSpaceError extends HushboxError {
  override readonly statusCode = 507;
  constructor(message: string) {
    super('no_space', message);
  }
}
