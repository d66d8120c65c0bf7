import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const COLOURS: Record<string, string> = { trace: '90', debug: '90', info: '32', warn: '33', error: '31', fatal: '35' };
const OMIT = new Set(['level', 'time', 'msg', 'app', 'pid', 'hostname', 'service']);

/**
 * One pino JSON line as a person reads it on a terminal:
 * `12:03:04.567 info  engine  engine running  pid=123 rate=48000`.
 */
export function formatLine(json: string, colour = false): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[Number(rec.level)] ?? String(rec.level);
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : '';
  const service = typeof rec.service === 'string' ? rec.service : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  const lvl = level.padEnd(5);
  const shownLevel = colour ? `\x1b[${COLOURS[level] ?? '0'}m${lvl}\x1b[0m` : lvl;
  return `${time} ${shownLevel} ${service.padEnd(8)} ${String(rec.msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

/** A synchronous destination that writes each record as formatLine() shows it. */
export function prettyDestination(out: NodeJS.WriteStream, colour: boolean): DestinationStream {
  return { write: (line: string) => void out.write(formatLine(line, colour)) };
}

/**
 * The root logger; each service takes a child with its name. JSON lines (for
 * journald on the box, and for anything reading the output); on a terminal,
 * readable lines instead, unless HUSHBOX_LOG_FORMAT=json.
 */
export function createLogger(level = process.env.HUSHBOX_LOG_LEVEL ?? 'info'): Logger {
  const options = { level, base: { app: 'hushbox' }, timestamp: pino.stdTimeFunctions.isoTime };
  const format = process.env.HUSHBOX_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty') return pino(options, prettyDestination(process.stdout, process.stdout.isTTY === true));
  return pino(options);
}
