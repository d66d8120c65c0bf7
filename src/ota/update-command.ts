// `hushbox update FILE|URL`: install a bundle on a running box through its HTTP API, with progress.
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { HushboxError, ValidationError } from '../errors.js';
import { TARGET_OPTIONS, boxTarget, call, callStream, type BoxTarget } from '../web/client.js';
import type { BundleCheck, OtaStatus } from './schema.js';

export const UPDATE_USAGE = `usage: hushbox update FILE|URL [options]
       hushbox update --channel | --check | --reboot | --status

  FILE                  upload a bundle (.raucb) to the box and install it
  URL                   have the box download the bundle (http/https) and install it
  --sha256 HEX          with URL: the bundle's sha256, checked before it is installed
  --channel             install the version the box's update channel offers
  --check               ask the update channel what it offers now
  --reboot              reboot the box (into an installed update)
  --status              the box's version, slots and last update (JSON)
  --allow-downgrade     install a version older than the running one
  --no-wait             return once the install has started
  --url BOX             the box (default: its Unix socket on the box, else http://127.0.0.1:<port>)
  --token TOKEN         an API token for --url (or HUSHBOX_TOKEN); not needed on the box's socket

Shows progress; exits non-zero with the box's error when the update is refused or fails.
`;

type Out = (line: string) => void;

/** A progress line, at most every few percent so a log stays readable. */
function reporter(out: Out): (phase: string, percent: number | null, message: string | null) => void {
  let last = '';
  return (phase, percent, message) => {
    const key = `${phase}:${percent === null ? '' : Math.floor(percent / 5)}`;
    if (key === last) return;
    last = key;
    out(`${phase}${percent === null ? '' : ` ${String(percent).padStart(3)}%`}${message ? `  ${message}` : ''}`);
  };
}

async function status(base: BoxTarget): Promise<OtaStatus> {
  return (await call(base, 'GET', '/api/ota')) as OtaStatus;
}

/** Upload a file as the request body, counting what has been sent. */
async function upload(base: BoxTarget, file: string, allowDowngrade: boolean, report: ReturnType<typeof reporter>): Promise<BundleCheck> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new ValidationError(`hushbox update: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let sent = 0;
  const counted = createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        report('uploading', size ? Math.floor((sent * 100) / size) : null, null);
        cb(null, chunk);
      },
    }),
  );
  return (await callStream(base, `/api/ota/install${allowDowngrade ? '?allowDowngrade=true' : ''}`, counted, size, 'application/octet-stream')) as BundleCheck;
}

/** While a request runs (a download on the box), show the box's progress. */
async function whilePolling<T>(base: BoxTarget, work: Promise<T>, report: ReturnType<typeof reporter>): Promise<T> {
  let done = false;
  const poll = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 500));
      if (done) break;
      const s = await status(base).catch(() => undefined);
      if (s?.install.running && s.install.phase !== 'installing') report(s.install.phase, s.install.percent, s.install.message);
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await poll;
  }
}

/** Follow the install on the box until RAUC is done. */
async function follow(base: BoxTarget, report: ReturnType<typeof reporter>): Promise<OtaStatus> {
  for (;;) {
    const s = await status(base);
    report(s.install.phase, s.install.percent, s.install.message);
    if (!s.install.running) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function updateCommand(argv: string[], out: Out = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...TARGET_OPTIONS,
      sha256: { type: 'string' },
      channel: { type: 'boolean' },
      check: { type: 'boolean' },
      reboot: { type: 'boolean' },
      status: { type: 'boolean' },
      'allow-downgrade': { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return UPDATE_USAGE;
  const base = boxTarget(values);
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  if (values.status) return json(await status(base));
  if (values.check) {
    const ch = (await call(base, 'POST', '/api/ota/channel/check')) as OtaStatus['channel'];
    return ch.updateAvailable ? `${ch.latest!.version} is available (${ch.latest!.url})\n` : `up to date (the channel offers ${ch.latest?.version ?? 'nothing'})\n`;
  }
  if (values.reboot) {
    const r = (await call(base, 'POST', '/api/ota/reboot')) as { into: string | null };
    return r.into ? `rebooting into ${r.into}\n` : 'rebooting\n';
  }
  const [target] = positionals;
  if (!values.channel && !target) throw new ValidationError(`hushbox update: give a bundle file or URL, or --channel\n${UPDATE_USAGE}`);
  if (positionals.length > 1) throw new ValidationError(`hushbox update: one bundle at a time (got ${positionals.length})`);
  const allowDowngrade = values['allow-downgrade'] ?? false;
  const report = reporter(out);
  let check: BundleCheck;
  if (values.channel) {
    check = (await whilePolling(base, call(base, 'POST', '/api/ota/channel/install', { allowDowngrade }), report)) as BundleCheck;
  } else if (/^https?:\/\//i.test(target!)) {
    const body = { url: target, allowDowngrade, ...(values.sha256 ? { sha256: values.sha256 } : {}) };
    check = (await whilePolling(base, call(base, 'POST', '/api/ota/install-url', body), report)) as BundleCheck;
  } else {
    check = await upload(base, target!, allowDowngrade, report);
  }
  out(`installing ${check.version} (${check.action} from ${check.installedVersion}, signed by ${check.signer ?? 'unknown'})`);
  if (values['no-wait']) return `installing ${check.version}\n`;
  const s = await follow(base, report);
  if (s.install.phase === 'failed' || s.lastAttempt?.result === 'failed') {
    throw new HushboxError(s.lastAttempt?.code ?? 'install_failed', `the install of ${check.version} failed: ${s.lastAttempt?.message ?? s.install.message ?? 'no reason given'}`);
  }
  if (s.settings.reboot === 'immediate') return `${check.version} installed; the box reboots into it now\n`;
  return `${check.version} installed; it runs after a reboot (hushbox update --reboot)\n`;
}
