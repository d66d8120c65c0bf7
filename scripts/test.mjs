#!/usr/bin/env node
// `npm test`: lint and type-check, C++ format check, C++ unit tests, then
// vitest (unit, integration against real parts, browser, QEMU), then the
// appliance: the image built (board/debian/build.sh, cached by its inputs) and
// booted in QEMU (vitest.qemu.config.ts), alone, so that nothing else competes
// with the emulated box for the CPU. Every step runs; the exit code says
// whether all passed. `npm test -- FILTER...` runs vitest on those files only.
// The update life on the image (`npm run test:ota-qemu`) is not yet here.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const report = join(root, 'build', 'vitest-report.json');

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
  // The JSON report lets the summary name the tests that failed: CI shows only the end of the output.
  ['vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]],
  // The image first, on its own (minutes on a clean machine, seconds when its inputs did not change), then its tests.
  ...(process.argv.length > 2
    ? []
    : [
        ['image build', 'sh', ['board/debian/build.sh']],
        ['image in QEMU', 'npx', ['vitest', 'run', '--config', 'vitest.qemu.config.ts']],
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
  return String(text ?? '').split('\n')[0].slice(0, 300);
}

rmSync(report, { force: true });
const results = [];
for (const [name, cmd, argv] of steps) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root });
  results.push([name, r.status === 0]);
}
process.stdout.write('\n=== summary ===\n');
for (const [name, ok] of results) process.stdout.write(`${ok ? 'pass' : 'FAIL'}  ${name}\n`);
for (const line of failedTests(report)) process.stdout.write(`  ${line}\n`);
const failed = results.filter(([, ok]) => !ok).length;
process.exit(failed ? 1 : 0);
