import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second for /proc/<pid>/stat times (almost always 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN if gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size in MB, from VmRSS in /proc/<pid>/status; NaN if gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS on a timer and its CPU between `start()` and `stop()`. */
export class ProcessSampler {
  private timer: NodeJS.Timeout | null = null;
  private startCpu = 0;
  private startAt = 0;
  peakRssMb = 0;
  lastRssMb = 0;

  constructor(
    readonly pid: number,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.startCpu = cpuSeconds(this.pid);
    this.startAt = performance.now();
    this.peakRssMb = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** CPU used in the window as a percentage of one core (100 = one core busy all the time). */
  stop(): { cpuPercent: number; peakRssMb: number; endRssMb: number } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const seconds = (performance.now() - this.startAt) / 1000;
    const cpu = cpuSeconds(this.pid) - this.startCpu;
    return {
      cpuPercent: seconds > 0 ? (100 * cpu) / seconds : NaN,
      peakRssMb: this.peakRssMb,
      endRssMb: this.lastRssMb,
    };
  }

  private sample(): void {
    const rss = rssMb(this.pid);
    if (Number.isNaN(rss)) return;
    this.lastRssMb = rss;
    if (rss > this.peakRssMb) this.peakRssMb = rss;
  }
}

/** Busy ticks of the whole machine so far, from the `cpu` line of /proc/stat. */
function machineTicks(): { busy: number; iowait: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, , iowait, irq, softirq, steal] = line
      .split(/\s+/)
      .slice(1)
      .map(Number) as number[];
    return {
      busy: user! + nice! + system! + irq! + softirq! + steal!,
      iowait: iowait!,
      steal: steal!,
    };
  } catch {
    return { busy: NaN, iowait: NaN, steal: NaN };
  }
}

/** What the whole machine did over a window, % of one core: all busy CPU, I/O wait, steal. */
export interface MachineUse {
  busyPercent: number;
  iowaitPercent: number;
  stealPercent: number;
}

/**
 * Measures the whole machine between `start()` and `stop()`, so a report can tell how much CPU
 * went to processes outside the bench (other jobs on a shared machine distort every figure).
 */
export class MachineSampler {
  private start_ = machineTicks();
  private at = performance.now();

  start(): void {
    this.start_ = machineTicks();
    this.at = performance.now();
  }

  stop(): MachineUse {
    const end = machineTicks();
    const seconds = (performance.now() - this.at) / 1000;
    const percent = (ticks: number) => (100 * ticks) / CLOCK_TICKS / seconds;
    return {
      busyPercent: percent(end.busy - this.start_.busy),
      iowaitPercent: percent(end.iowait - this.start_.iowait),
      stealPercent: percent(end.steal - this.start_.steal),
    };
  }
}

/** The machine the figures come from, for the report's first table. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  kernel: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString().slice(0, 10),
  };
}
