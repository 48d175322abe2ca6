/**
 * Starts `bin/strata` (single binary, `-target=all` by default) as a child process on free loopback
 * ports with a fresh temp dir for the TSDB and the filesystem bucket.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePorts } from './ports';
import { resolveWorkerPid } from './proc-stats';
import { startServerProcess, waitReady, type ServerProcess } from './server-process';

/** Absolute path of bin/strata. */
export const STRATA_BIN = path.resolve(__dirname, '../../bin/strata');

export interface StrataOptions {
  /** Default STRATA_BIN. */
  binary?: string;
  /** Extra flags, e.g. ['-distributor.ingestion-rate-limit=1e9']. */
  args?: string[];
  /** Readiness path polled for HTTP 200. Default /ready. */
  readyPath?: string;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  keepDir?: boolean;
  tmpRoot?: string;
  /** SIGTERM → SIGKILL grace in stop(). Default 10 s. */
  stopTimeoutMs?: number;
  /** Reuse this data directory (e.g. to restart on the same data); kept on stop. */
  dir?: string;
}

export interface StrataInstance {
  readonly url: string;
  /** {url}/api/v1/push */
  readonly pushUrl: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** PID of the node process (bin/strata `exec`s node; resolved through a wrapper that does not). */
  readonly pid: number;
  readonly dir: string;
  readonly server: ServerProcess;
  log(maxBytes?: number): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no graceful shutdown. Resolves once the process has exited. */
  kill(): Promise<void>;
}

export function strataInstalled(binary = STRATA_BIN): boolean {
  try {
    fs.accessSync(binary, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function startStrata(opts: StrataOptions = {}): Promise<StrataInstance> {
  const binary = opts.binary ?? STRATA_BIN;
  if (!strataInstalled(binary)) throw new Error(`${binary} is missing or not executable`);
  const dir = opts.dir ?? fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'strata-'));
  const keepDir = opts.keepDir ?? opts.dir !== undefined;
  const [httpPort, grpcPort] = (await freePorts(2)) as [number, number];
  const server = startServerProcess({
    name: 'strata',
    command: binary,
    args: [
      '-server.http-listen-address=127.0.0.1',
      `-server.http-listen-port=${httpPort}`,
      '-server.grpc-listen-address=127.0.0.1',
      `-server.grpc-listen-port=${grpcPort}`,
      `-blocks-storage.tsdb.dir=${path.join(dir, 'tsdb')}`,
      `-blocks-storage.filesystem.dir=${path.join(dir, 'bucket')}`,
      ...(opts.args ?? []),
    ],
    logFile: path.join(dir, 'strata.log'),
    cwd: path.dirname(path.dirname(binary)),
    env: opts.env,
  });
  const url = `http://127.0.0.1:${httpPort}`;
  let workerPid = server.pid;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // A wrapper that did not `exec` may not forward SIGTERM: signal the node process too.
      if (workerPid !== server.pid) {
        try {
          process.kill(workerPid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await server.stop(opts.stopTimeoutMs ?? 10_000);
      if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
    })());
  try {
    await waitReady(server, url + (opts.readyPath ?? '/ready'), opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  workerPid = resolveWorkerPid(server.pid, 'node');
  return {
    url,
    pushUrl: `${url}/api/v1/push`,
    httpPort,
    grpcPort,
    pid: workerPid,
    dir,
    server,
    log: (maxBytes) => server.log(maxBytes),
    stop,
    kill: async () => {
      try {
        process.kill(workerPid, 'SIGKILL');
      } catch {
        // already gone
      }
      await server.stop(1000);
    },
  };
}
