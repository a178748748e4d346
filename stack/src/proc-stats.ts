import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcUsage {
  /** Average CPU over the sampled span, in percent of one core. */
  cpuPercent: number;
  /** Largest resident set seen (VmHWM, the kernel's own high-water mark), MB. */
  peakRssMb: number;
}

/** CPU time (user + system) a process has used, in clock ticks (100 a second). */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

/** A memory figure of /proc/<pid>/status (VmRSS, VmHWM...) in MB; NaN if the process is gone. */
function statusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory now (VmRSS), MB. */
export const rssMb = (pid: number | undefined): number => statusMb(pid, 'VmRSS');

/** The largest resident set so far (VmHWM, the kernel's own high-water mark), MB. */
export const peakRssMb = (pid: number | undefined): number => statusMb(pid, 'VmHWM');

/** CPU time and peak RSS of a set of processes between `start()` and `stop()`. */
export class ProcSampler {
  private readonly startTicks = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly pids: ReadonlyMap<string, number | undefined>) {}

  start(): this {
    this.startedAt = performance.now();
    for (const [name, pid] of this.pids) {
      const ticks = pid === undefined ? undefined : cpuTicks(pid);
      if (ticks !== undefined) this.startTicks.set(name, ticks);
    }
    return this;
  }

  stop(): Record<string, ProcUsage> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const usage: Record<string, ProcUsage> = {};
    for (const [name, pid] of this.pids) {
      const end = pid === undefined ? undefined : cpuTicks(pid);
      const begin = this.startTicks.get(name);
      usage[name] = {
        cpuPercent:
          end === undefined || begin === undefined ? Number.NaN : ((end - begin) / CLOCK_TICKS / seconds) * 100,
        peakRssMb: peakRssMb(pid),
      };
    }
    return usage;
  }
}
