/**
 * A server child process for tests and benchmarks: output goes to a log file, readiness is an HTTP
 * poll, and stop() sends SIGTERM, waits, then SIGKILLs. Every process started here is also
 * SIGKILLed when the Node process exits, so a failing test cannot leave servers behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';

export interface ServerProcessOptions {
  /** Name used in error messages. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ServerProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** The log so far (last `maxBytes`, default 64 KiB). */
  log(maxBytes?: number): string;
  /** SIGTERM, wait up to `timeoutMs` (default 10 s), then SIGKILL. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export function startServerProcess(opts: ServerProcessOptions): ServerProcess {
  installExitHook();
  const fd = fs.openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, [...opts.args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(child);
      resolve(code ?? signal ?? -1);
    });
    child.once('error', (err) => {
      done = true;
      live.delete(child);
      fs.appendFileSync(opts.logFile, `\nspawn error: ${err.message}\n`);
      resolve(-1);
    });
  });
  live.add(child);

  const log = (maxBytes = 64 * 1024): string => {
    try {
      const buf = fs.readFileSync(opts.logFile);
      return buf.subarray(Math.max(0, buf.length - maxBytes)).toString('utf8');
    } catch {
      return '';
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (done) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut && !done) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };

  return {
    name: opts.name,
    process: child,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    exited,
    hasExited: () => done,
    log,
    stop,
  };
}

/** One HTTP GET; resolves with the status and body, or rejects on network errors. */
export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

/**
 * Polls `url` every `intervalMs` until it answers 200. Fails fast when the process exits, and after
 * `timeoutMs` with the tail of the log.
 */
export async function waitReady(proc: ServerProcess, url: string, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(`${proc.name} exited (${await proc.exited}) before ${url} was ready. Log tail:\n${proc.log(4096)}`);
    }
    try {
      const res = await httpGet(url, 2000);
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (last: ${last}). Log tail:\n${proc.log(4096)}`);
}
