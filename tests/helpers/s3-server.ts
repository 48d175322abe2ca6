/**
 * A real S3 HTTP server for tests: s3rver 3.7.1 through the shim in `s3rver-start.js` (see
 * docs/tooling.md §3), as a child process on a free loopback port, with one bucket created.
 * Access key and secret are both `S3RVER` (s3rver accepts no other access key).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';
import { startServerProcess, type ServerProcess } from './server-process';

export interface S3Server {
  /** host:port, as `S3Config.endpoint`. */
  endpoint: string;
  port: number;
  bucket: string;
  accessKey: 'S3RVER';
  secretKey: 'S3RVER';
  /** The directory s3rver stores objects in. */
  dir: string;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server, keeping its directory (for outage tests); `restart` or `start` brings it back. */
  kill(): Promise<void>;
  /** Starts the server again after `kill` on the same port and directory (objects are kept). */
  start(): Promise<void>;
  /** kill + start: the same port and directory, so objects survive. */
  restart(): Promise<void>;
  /** The server's log so far. */
  log(): string;
}

/** Strata's flags for using `s3` as its bucket. */
export function strataS3Flags(s3: S3Server): string[] {
  return [
    '-blocks-storage.backend=s3',
    `-blocks-storage.s3.endpoint=${s3.endpoint}`,
    `-blocks-storage.s3.bucket-name=${s3.bucket}`,
    `-blocks-storage.s3.access-key-id=${s3.accessKey}`,
    `-blocks-storage.s3.secret-access-key=${s3.secretKey}`,
    '-blocks-storage.s3.insecure=true',
  ];
}

export interface S3ServerOptions {
  bucket?: string;
  /** How long to wait for the ready line. Default 15 s. */
  readyTimeoutMs?: number;
}

const SHIM = path.join(__dirname, 's3rver-start.js');
const READY = /s3rver listening on 127\.0\.0\.1:(\d+)/;

function readFrom(file: string, offset: number): string {
  try {
    return fs.readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** Waits for the ready line in what the process logged after `offset`. */
async function waitForReadyLine(proc: ServerProcess, offset: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (READY.test(readFrom(proc.logFile, offset))) return;
    if (proc.hasExited()) {
      throw new Error(
        `s3rver exited (${await proc.exited}) before it was ready. Log:\n${readFrom(proc.logFile, offset).slice(-4096)}`,
      );
    }
    if (Date.now() > deadline) {
      await proc.stop(2000);
      throw new Error(`s3rver not ready after ${timeoutMs} ms. Log:\n${readFrom(proc.logFile, offset).slice(-4096)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'strata-test';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-s3-'));
  const dir = path.join(root, 'data');
  fs.mkdirSync(dir);
  const logFile = path.join(root, 's3rver.log');

  let port = 0;
  let proc: ServerProcess | undefined;

  /** Starts the shim; on failure the error message holds the log of this start. */
  const launch = async (): Promise<void> => {
    const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const p = startServerProcess({
      name: 's3rver',
      command: process.execPath,
      args: [SHIM],
      logFile,
      env: { ...process.env, S3_PORT: String(port), S3_DIR: dir, S3_BUCKETS: bucket },
    });
    proc = p;
    await waitForReadyLine(p, offset, readyTimeoutMs);
  };

  // The free port can be taken between freePort() and listen(); try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    fs.writeFileSync(logFile, '');
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 2 || !/EADDRINUSE/.test((err as Error).message)) {
        fs.rmSync(root, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p !== undefined) await p.stop(5000);
  };
  const start = async (): Promise<void> => {
    if (proc !== undefined && !proc.hasExited()) return;
    // The old listening socket is closed once the process has exited; retry briefly in case the
    // kernel has not released the port yet.
    for (let attempt = 0; ; attempt++) {
      try {
        await launch();
        return;
      } catch (err) {
        if (attempt >= 20 || !/EADDRINUSE/.test((err as Error).message)) throw err;
        proc = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  let stopped: Promise<void> | undefined;

  return {
    endpoint: `127.0.0.1:${port}`,
    port,
    bucket,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    dir,
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
    stop: () =>
      (stopped ??= (async () => {
        await kill();
        fs.rmSync(root, { recursive: true, force: true });
      })()),
    log: () => {
      try {
        return fs.readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}
