#!/usr/bin/env node
// `npm test`: lint and type-check, C++ format check, C++ unit tests, then
// vitest (unit, integration against real parts, browser, QEMU), then the
// appliance: the image built (board/debian/build.sh, cached by its inputs),
// booted in QEMU (vitest.qemu.config.ts), then its update life in QEMU
// (vitest.ota.config.ts: refusals, an update, a fallback, 10 power cuts during
// installs), each alone, so that nothing else competes with the emulated box
// for the CPU. Every step runs; the exit code says whether all passed.
// `npm test -- FILTER...` runs vitest on those files only.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each vitest step's JSON report, so that the summary can name the tests that failed (CI shows only the end of the output).
const report = (name) => join(root, 'build', `vitest-report-${name}.json`);
const reports = [];
const vitest = (name, ...args) => {
  reports.push(report(name));
  return ['npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report(name)}`, ...args]];
};

function cppFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return cppFiles(p);
    return /\.(h|cpp)$/.test(e.name) ? [p] : [];
  });
}

const steps = [
  ['eslint', 'npx', ['eslint', 'src', 'test', 'scripts', 'bin']],
  ['tsc --noEmit', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['clang-format', 'clang-format', ['--dry-run', '--Werror', ...cppFiles(join(root, 'native'))]],
  ['native unit tests', 'ctest', ['--test-dir', 'build/native', '--output-on-failure']],
  ['vitest', ...vitest('main', ...process.argv.slice(2))],
  // The image first, on its own (minutes on a clean machine, seconds when its inputs did not change), then its tests.
  ...(process.argv.length > 2
    ? []
    : [
        ['image build', 'sh', ['board/debian/build.sh']],
        ['image in QEMU', ...vitest('image', '--config', 'vitest.qemu.config.ts')],
        // The 10 power cuts (each part of an install, a cut and a boot: some 3-4 minutes under TCG; the suite
        // about 50 minutes here). HUSHBOX_OTA_POWER_CUTS=N sets another number.
        ['updates in QEMU', ...vitest('ota', '--config', 'vitest.ota.config.ts'), { HUSHBOX_OTA_POWER_CUTS: process.env.HUSHBOX_OTA_POWER_CUTS ?? '10' }],
      ]),
];

// The failed tests of a vitest JSON report, a line each with the first line of the error; none when it is absent.
function failedTests(file) {
  let json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  const lines = [];
  for (const f of json.testResults ?? []) {
    const name = relative(root, f.name);
    const failed = (f.assertionResults ?? []).filter((t) => t.status === 'failed');
    if (f.status === 'failed' && failed.length === 0) lines.push(`${name}: ${firstLine(f.message)}`);
    for (const t of failed) lines.push(`${name} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
  }
  return lines;
}

function firstLine(text) {
  const first = String(text ?? '').split('\n')[0];
  // vitest reports a test or hook that outlived its timeout with the stack of an Error("STACK_TRACE_ERROR") made at its start.
  if (first === 'Error: STACK_TRACE_ERROR') return 'timed out (the test or hook outlived its vitest timeout)';
  return first.slice(0, 300);
}

for (const file of reports) rmSync(file, { force: true });
const results = [];
for (const [name, cmd, argv, env = {}] of steps) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  results.push([name, r.status === 0, Math.round((Date.now() - t0) / 1000)]);
}
process.stdout.write('\n=== summary ===\n');
for (const [name, ok, s] of results) process.stdout.write(`${ok ? 'pass' : 'FAIL'}  ${name} (${s} s)\n`);
for (const file of reports) for (const line of failedTests(file)) process.stdout.write(`  ${line}\n`);
const failed = results.filter(([, ok]) => !ok).length;
process.exit(failed ? 1 : 0);
