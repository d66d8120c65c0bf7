// The `hushbox` command line: parse, dispatch, handle signals. Nothing else.
import { execFileSync, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { defaultConfig, resolveDataDir } from './config/config.js';
import { HushboxError } from './errors.js';
import { packageVersion } from './paths.js';

// Each command loads only what it needs (dynamic imports): the supervisor's
// web server, MQTT client and the rest are not read for `hushbox version` or
// for `hushbox mqtt-credentials`, which runs at every boot before the broker.

const USAGE = `usage: hushbox <command> [options]

commands:
  start [--config FILE] [--data DIR]   run the box: engine, front panel, API
  doctor [--json] [--config FILE] [--data DIR]
                                       check the box: kernel, interface, tuning, health, engine
  scarlett [show|set JSON|msd off] [--json]
                                       the Scarlett's hardware controls (gain, Air, 48V, monitor, MSD)
  status [--json]                      what the running box is doing: engine, audio, preset, levels
  profile [NAME] [--json]              the I/O profile; NAME (studio, balanced, streaming, lowlatency)
                                       switches to it, restarting the engine with the same parameters
  params [--json]                      the engine's parameter table
  preset list|show|apply|delete|export|import ...
                                       presets of the running box (hushbox preset --help)
  update FILE|URL [--sha256 HEX] [--allow-downgrade]
                                       install an update bundle on the running box, with progress
                                       (--channel, --check, --reboot, --status: hushbox update --help)
  mqtt-credentials [--data DIR] [--json]
                                       make the box broker's users, password file and ACL (first boot);
                                       print the login for Home Assistant
  compile-schemas [DIR]                write the API's compiled validators and serializers (the image
                                       build does, into build/web-schemas; the supervisor loads them)
  version                              print the version

environment:
  HUSHBOX_DATA_DIR    data directory (default ~/.local/share/hushbox)
  HUSHBOX_HTTP_PORT   front panel port (default 8080)
  HUSHBOX_MQTT_URL    MQTT broker (default mqtt://localhost:1883), e.g. mqtt://user:pass@host:1883
  HUSHBOX_ENGINE      path of hushbox-engine
  HUSHBOX_LOG_LEVEL   pino level (default info)
  HUSHBOX_TUNE        1: apply real-time system tuning (the box's image sets it)
  HUSHBOX_ROOT        root of /sys, /proc for system checks (default /)
  HUSHBOX_DEVICE_ID   device id (MQTT topics, Home Assistant), default from the hostname
  HUSHBOX_AUDIO       auto: use the Scarlett, else the first card that plays and records,
                      else the simulated device (the image sets it); default: the config's
  HUSHBOX_UDEV_SETTLE SECONDS: before choosing the audio device, wait at most that long for
                      udev's first pass over the devices (the image sets it)

signals (start):
  SIGTERM, SIGINT     stop; SIGHUP (systemctl reload hushbox): look again for the password
                      reset file on the boot partition
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`hushbox: ${message}\n`);
  process.exit(code);
}

async function compileSchemas(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {}, strict: true });
  const [{ createLogger }, { Supervisor }, { compiledSchemasDir }, { mkdtempSync, rmSync }, { tmpdir }, { join }] = await Promise.all([
    import('./log.js'),
    import('./supervisor.js'),
    import('./web/compiled-schemas.js'),
    import('node:fs'),
    import('node:os'),
    import('node:path'),
  ]);
  const dir = positionals[0] ?? compiledSchemasDir;
  // A supervisor made but never started: its web app is built with every route the box serves.
  const data = mkdtempSync(join(tmpdir(), 'hushbox-schemas-'));
  try {
    const supervisor = new Supervisor({ dataDir: data, log: createLogger() });
    const n = await supervisor.compileSchemas(dir);
    process.stdout.write(`wrote ${n} compiled validators and serializers to ${dir}\n`);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
  // Nothing started is left to wait for (services made, not started, may hold timers).
  process.exit(0);
}

/**
 * HUSHBOX_UDEV_SETTLE=SECONDS (the image): waits, at most that long, for udev's first pass over the boot's devices
 * (sound cards are probed during it, and HUSHBOX_AUDIO=auto chooses among those present). It runs while the
 * supervisor's code loads and its web app is built, not before: as the unit's ExecStartPre it held the start some
 * 3 s on the emulated box, and loading the code takes longer than the wait. Answers what to log once there is a log.
 */
function udevSettle(seconds: string | undefined): Promise<{ settledMs: number; code: number | null; error?: string } | null> {
  if (!seconds) return Promise.resolve(null);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const settledMs = () => Math.round(performance.now() - t0);
    const child = spawn('udevadm', ['settle', `--timeout=${Number(seconds) || 20}`], { stdio: 'ignore' });
    child.on('error', (err) => resolve({ settledMs: settledMs(), code: null, error: err.message }));
    child.on('close', (code) => resolve({ settledMs: settledMs(), code }));
  });
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, data: { type: 'string' } }, strict: true });
  const settling = udevSettle(process.env.HUSHBOX_UDEV_SETTLE);
  const [{ createLogger }, { Supervisor }] = await Promise.all([import('./log.js'), import('./supervisor.js')]);
  const log = createLogger();
  const devices = settling.then((settled) => {
    if (!settled) return;
    if (settled.code === 0) log.info({ settledMs: settled.settledMs }, 'udev has seen the boot\'s devices');
    else log.warn(settled, 'udevadm settle did not finish: choosing the audio device among those present now');
  });
  const supervisor = new Supervisor({ configFile: values.config, dataDir: resolveDataDir(values.data), log, devices });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    supervisor.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (!stopping) supervisor.reload();
  });
  await supervisor.start();
}

function params(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, strict: true });
  const binary = defaultConfig().engine.binary;
  const out = execFileSync(binary, ['params', ...(values.json ? ['--json'] : [])], { encoding: 'utf8' });
  process.stdout.write(out);
}

async function doctor(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, config: { type: 'string' }, data: { type: 'string' } }, strict: true });
  const [{ doctorCommand }, { formatDoctor }] = await Promise.all([import('./health/doctor-command.js'), import('./health/doctor.js')]);
  const report = await doctorCommand({ configFile: values.config, dataDir: resolveDataDir(values.data) });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  process.exitCode = report.overall === 'fail' ? 1 : 0;
}

async function scarlett(argv: string[]): Promise<void> {
  const { scarlettCommand } = await import('./system/scarlett-command.js');
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, config: { type: 'string' }, data: { type: 'string' } }, strict: true, allowPositionals: true });
  process.stdout.write(scarlettCommand(positionals, { configFile: values.config, dataDir: resolveDataDir(values.data), json: values.json ?? false }));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start(rest);
    case 'params':
      return params(rest);
    case 'doctor':
      return doctor(rest);
    case 'scarlett':
      return scarlett(rest);
    case 'preset':
      process.stdout.write(await (await import('./presets/cli.js')).presetCommand(rest));
      return;
    case 'status':
      process.stdout.write(await (await import('./engine/status-command.js')).statusCommand(rest));
      return;
    case 'profile':
      process.stdout.write(await (await import('./engine/status-command.js')).profileCommand(rest));
      return;
    case 'update':
      process.stdout.write(await (await import('./ota/update-command.js')).updateCommand(rest));
      return;
    case 'compile-schemas':
      return compileSchemas(rest);
    case 'mqtt-credentials':
      process.stdout.write((await import('./mqtt/credentials-command.js')).mqttCredentialsCommand(rest));
      return;
    case 'version':
    case '--version':
      process.stdout.write(`${packageVersion()}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command '${command}'\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof HushboxError) fail(err.message, 1);
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) fail(err.message);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
