import type { RootFs } from './root-fs.js';

/** '0-2,5,7-8' -> [0,1,2,5,7,8]; flags such as 'domain,managed_irq,' before the list are skipped. */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let c = a; c <= b && c - a < 4096; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

function cmdlineParam(cmdline: string, key: string): string | null {
  const m = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(cmdline);
  return m ? m[1]! : null;
}

/** Busy and total jiffies per CPU from /proc/stat. */
export function cpuTimes(fs: RootFs): Map<number, { busy: number; total: number }> {
  const out = new Map<number, { busy: number; total: number }>();
  for (const line of (fs.read('proc/stat') ?? '').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(Number(m[1]), { busy: total - idle, total });
  }
  return out;
}

export interface CpuLayout {
  cpus: number[];
  isolated: number[];
  nohzFull: number[];
  audioCpu: number | null;
  /** Where the choice came from. */
  source: 'config' | 'isolcpus' | 'nohz_full' | 'least-busy' | 'single-cpu';
  /** CPUs for everything else (the supervisor, its threads). */
  others: number[];
  why: string;
}

/**
 * The audio core: the configured one, else an isolated core (isolcpus,
 * /sys/.../cpu/isolated, nohz_full), else the least busy core by /proc/stat.
 */
export function cpuLayout(fs: RootFs, configured = -1): CpuLayout {
  const online = parseCpuList(fs.value('sys/devices/system/cpu/online') ?? '');
  const fromStat = [...cpuTimes(fs).keys()];
  const cpus = online.length ? online : fromStat.length ? fromStat.sort((a, b) => a - b) : [0];
  const cmdline = fs.value('proc/cmdline') ?? '';
  const isolcpus = cmdlineParam(cmdline, 'isolcpus');
  const isolated = parseCpuList(fs.value('sys/devices/system/cpu/isolated') ?? isolcpus ?? '').filter((c) => cpus.includes(c));
  const nohzFull = parseCpuList(fs.value('sys/devices/system/cpu/nohz_full') ?? cmdlineParam(cmdline, 'nohz_full') ?? '').filter((c) =>
    cpus.includes(c),
  );
  const layout = (audioCpu: number | null, source: CpuLayout['source'], why: string): CpuLayout => ({
    cpus,
    isolated,
    nohzFull,
    audioCpu,
    source,
    others: audioCpu === null || cpus.length < 2 ? cpus : cpus.filter((c) => c !== audioCpu),
    why,
  });
  if (configured >= 0) return layout(configured, 'config', `CPU ${configured} as configured`);
  if (cpus.length < 2) return layout(null, 'single-cpu', 'one CPU only: nothing to separate');
  if (isolated.length) return layout(isolated.at(-1)!, 'isolcpus', `CPU ${isolated.at(-1)} is isolated (isolcpus)`);
  if (nohzFull.length) return layout(nohzFull.at(-1)!, 'nohz_full', `CPU ${nohzFull.at(-1)} runs tickless (nohz_full)`);
  const times = cpuTimes(fs);
  let best = cpus.at(-1)!;
  let bestLoad = Infinity;
  for (const c of cpus) {
    const t = times.get(c);
    const load = t && t.total > 0 ? t.busy / t.total : 0;
    // Ties go to the highest CPU: CPU 0 takes most of the unpinned interrupts.
    if (load <= bestLoad) {
      best = c;
      bestLoad = load;
    }
  }
  return layout(best, 'least-busy', `no isolated CPU; CPU ${best} is the least busy (${Math.round(bestLoad * 100)}% since boot)`);
}
