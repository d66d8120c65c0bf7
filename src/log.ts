import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger; each service takes a child with its name. */
export function createLogger(level = process.env.HUSHBOX_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'hushbox' }, timestamp: pino.stdTimeFunctions.isoTime });
}
