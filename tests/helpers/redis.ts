/**
 * A real Redis for tests: Debian's `redis-server` (docs/tooling.md §4) as a child process on a free
 * loopback port, without persistence. scripts/test.sh installs it when it is missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';
import { startServerProcess, type ServerProcess } from './server-process';

export interface RedisServer {
  /** host:port, as the KV `redisEndpoint`. */
  endpoint: string;
  port: number;
  /** The server's log so far. */
  log(): string;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** How long to wait for PONG. Default 10 s. */
  readyTimeoutMs?: number;
}

/** Sends PING on a fresh connection; resolves true on +PONG. */
function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

function findRedisServer(): string {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (r.status !== 0 || !bin) {
    throw new Error(
      'redis-server not found. Install it with: apt-get install -y --no-install-recommends redis-server (scripts/test.sh does this)',
    );
  }
  return bin;
}

async function startOnce(bin: string, dir: string, readyTimeoutMs: number): Promise<{ proc: ServerProcess; port: number }> {
  const port = await freePort();
  const proc = startServerProcess({
    name: `redis-server :${port}`,
    command: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    logFile: path.join(dir, 'redis.log'),
  });
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(`redis-server exited (${await proc.exited}) before it answered PING. Log:\n${proc.log(4096)}`);
    }
    if (await ping(port, 500)) return { proc, port };
    await new Promise((r) => setTimeout(r, 20));
  }
  await proc.stop(2000);
  throw new Error(`redis-server not ready on port ${port} after ${readyTimeoutMs} ms. Log:\n${proc.log(4096)}`);
}

/** Starts redis-server on a free port (trying another port if the chosen one was taken meanwhile). */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-redis-'));
  let started: { proc: ServerProcess; port: number } | undefined;
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && started === undefined; attempt++) {
    try {
      started = await startOnce(bin, dir, opts.readyTimeoutMs ?? 10_000);
    } catch (err) {
      lastErr = err;
    }
  }
  if (started === undefined) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw lastErr;
  }
  const { proc, port } = started;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `127.0.0.1:${port}`,
    port,
    log: () => proc.log(),
    stop: () =>
      (stopping ??= (async () => {
        await proc.stop(5000);
        fs.rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
