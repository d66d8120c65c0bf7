import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, whether running from src/ (tests) or dist/ (built). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const nativeBuildDir = join(packageRoot, 'build', 'native');

/** The engine executable: $HUSHBOX_ENGINE, the native build, or the image's copy. */
export function defaultEngineBinary(): string {
  if (process.env.HUSHBOX_ENGINE) return process.env.HUSHBOX_ENGINE;
  const built = join(nativeBuildDir, 'hushbox-engine');
  if (existsSync(built)) return built;
  return '/usr/bin/hushbox-engine';
}

export function addonPath(): string {
  return process.env.HUSHBOX_ADDON ?? join(nativeBuildDir, 'Release', 'hushbox.node');
}

export const webPublicDir = join(packageRoot, 'src', 'web', 'public');

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}
