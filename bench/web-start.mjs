// What building the web app costs at every start, with the routes' validators
// and serializers compiled by fastify (a development tree) and loaded from the
// image's compiled code (src/web/compiled-schemas.ts, `hushbox compile-schemas`).
// Each round builds the app once each way in a fresh Node process (nothing
// cached between them), alternating which goes first, and reads the CPU time
// (user + system) the build took: CPU, not wall time, is what the emulated box
// and a small board are short of. Prints the median and range of each and of
// their ratio.
//
//   npm run build && node bench/web-start.mjs [--rounds 7]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../dist/paths.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, child: { type: 'string' } } });

if (values.child !== undefined) {
  // One build of the app, as WebService.start builds it, in this process.
  const [{ Supervisor }, { CompiledSchemas }, { buildApp }, { createLogger }] = await Promise.all([
    import('../dist/supervisor.js'),
    import('../dist/web/compiled-schemas.js'),
    import('../dist/web/app.js'),
    import('../dist/log.js'),
  ]);
  const data = mkdtempSync(join(tmpdir(), 'hushbox-web-start-'));
  const sup = new Supervisor({ dataDir: data, log: createLogger('error') });
  await sup.auth.start();
  // Reach the app's deps as the supervisor gives them to its web service.
  const deps = sup.web.deps;
  const schemas = new CompiledSchemas(values.child || join(data, 'none'));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const app = await buildApp({ ...deps, schemas });
  await app.ready();
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  await app.close();
  rmSync(data, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: wall, ...schemas.counts })}\n`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'hushbox-web-schemas-'));
execFileSync(process.execPath, [join(packageRoot, 'bin/hushbox.js'), 'compile-schemas', dir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HUSHBOX_LOG_LEVEL: 'error' } });
const one = (compiledDir) => JSON.parse(execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', compiledDir], { encoding: 'utf8' }).trim().split('\n').pop());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const compiled = [];
const loaded = [];
const ratio = [];
for (let i = 0; i < Number(values.rounds); i++) {
  const [a, b] = i % 2 ? [one(dir), one('')] : [one(''), one(dir)].reverse();
  if (a.compiled !== 0 || a.loaded === 0) throw new Error(`the compiled code was not used: ${JSON.stringify(a)}`);
  loaded.push(a.cpuMs);
  compiled.push(b.cpuMs);
  ratio.push(a.cpuMs / b.cpuMs);
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `web app build, CPU ms over ${values.rounds} rounds (load average ${loadavg()[0].toFixed(1)}):\n` +
    `  fastify compiles the schemas: median ${median(compiled).toFixed(0)} (${range(compiled)})\n` +
    `  loaded from compiled code:    median ${median(loaded).toFixed(0)} (${range(loaded)})\n` +
    `  ratio loaded/compiled:        median ${median(ratio).toFixed(2)} (${Math.min(...ratio).toFixed(2)}-${Math.max(...ratio).toFixed(2)})\n`,
);
