/**
 * Resource figures of a running process from Linux /proc: CPU seconds (utime + stime) and memory
 * (VmRSS, VmHWM). Used by the benchmarks to measure a server from the outside.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

let clkTck: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux x86-64). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** User + system CPU seconds the process has used so far (its own threads, not waited-for children). */
export function readCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 14 (utime) is rest[11] and field 15 (stime) is rest[12].
  return (Number(rest[11]) + Number(rest[12])) / clockTicksPerSecond();
}

export interface MemoryStats {
  /** Resident set size now (VmRSS), bytes. */
  rssBytes: number;
  /** Peak resident set size (VmHWM), bytes. */
  peakRssBytes: number;
}

export function readMemory(pid: number): MemoryStats {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** The process's command name (`/proc/<pid>/comm`), or undefined if it is gone. */
export function processName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (from /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    }
  } catch {
    // gone
  }
  return out;
}

/**
 * The process that does the work behind `pid`: `pid` itself when its command is `name`, otherwise
 * the first descendant (breadth-first) whose command is `name` — e.g. the node process under a
 * shell wrapper that did not `exec`. Falls back to `pid`.
 */
export function resolveWorkerPid(pid: number, name: string): number {
  const queue = [pid];
  for (let seen = 0; queue.length && seen < 64; seen++) {
    const p = queue.shift()!;
    if (processName(p) === name) return p;
    queue.push(...childPids(p));
  }
  return pid;
}
