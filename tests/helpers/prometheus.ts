/**
 * Starts Debian's Prometheus 2.42 as a child process on a free loopback port, with a generated
 * config in a fresh temp dir: remote-write receiver on, self-scrape every second, external label
 * `cluster`, optional remote_write to a URL. See docs tooling.md §2 for what this build does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';
import { httpGet, startServerProcess, waitReady, type ServerProcess } from './server-process';

export interface PrometheusRemoteWrite {
  url: string;
  /** Sent as `Authorization: Basic`. (This build ignores remote_write `headers:`, so no X-Scope-OrgID.) */
  basicAuth?: { user: string; pass: string };
  /** Merged into queue_config; default {batch_send_deadline: '1s', max_samples_per_send: 500}. */
  queueConfig?: Record<string, unknown>;
  /** Default {send: true, send_interval: '5s'}. */
  metadataConfig?: Record<string, unknown>;
  /** Extra keys of the remote_write entry (e.g. write_relabel_configs). */
  extra?: Record<string, unknown>;
}

export interface PrometheusOptions {
  /** Default: `prometheus` from PATH. */
  binary?: string;
  /** Default 1s. Also the evaluation interval. */
  scrapeInterval?: string;
  /** Scrape its own /metrics (job `prometheus`). Default true. */
  selfScrape?: boolean;
  /** Default {cluster: 'test'}. */
  externalLabels?: Record<string, string>;
  remoteWrite?: PrometheusRemoteWrite | PrometheusRemoteWrite[];
  /** More scrape_configs entries. */
  scrapeConfigs?: Record<string, unknown>[];
  /** Rule files to load (paths). */
  ruleFiles?: string[];
  /** Extra command-line flags. */
  extraArgs?: string[];
  /** Default 30 s. */
  readyTimeoutMs?: number;
  /** Keep the temp dir after stop() (for debugging). Default false. */
  keepDir?: boolean;
  /** Parent of the temp dir. Default os.tmpdir(). */
  tmpRoot?: string;
}

export interface PrometheusInstance {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** URL of the remote-write receiver (/api/v1/write). */
  readonly writeUrl: string;
  readonly port: number;
  readonly pid: number;
  /** Temp dir holding prometheus.yml, data/ and prometheus.log. */
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly server: ServerProcess;
  /** Tail of the log. */
  log(maxBytes?: number): string;
  /** GET /api/v1/query; returns the parsed JSON. */
  query(expr: string, time?: number): Promise<PromApiResponse>;
  /** SIGTERM, wait, SIGKILL after 10 s; removes the temp dir unless keepDir. Idempotent. */
  stop(): Promise<void>;
}

export interface PromApiResponse {
  status: string;
  data?: { resultType: string; result: unknown[] };
  error?: string;
  errorType?: string;
}

/** Path of the `prometheus` binary on PATH, or undefined. */
export function findPrometheus(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'prometheus');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const PROMETHEUS_INSTALL_HINT =
  'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus';

/** The Prometheus config this helper writes (as an object; it is written as JSON, which is YAML). */
export function prometheusConfig(port: number, opts: PrometheusOptions = {}): Record<string, unknown> {
  const interval = opts.scrapeInterval ?? '1s';
  const scrapeConfigs: Record<string, unknown>[] = [];
  if (opts.selfScrape ?? true) scrapeConfigs.push({ job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${port}`] }] });
  scrapeConfigs.push(...(opts.scrapeConfigs ?? []));
  const rws = opts.remoteWrite === undefined ? [] : Array.isArray(opts.remoteWrite) ? opts.remoteWrite : [opts.remoteWrite];
  const cfg: Record<string, unknown> = {
    global: { scrape_interval: interval, evaluation_interval: interval, external_labels: opts.externalLabels ?? { cluster: 'test' } },
    scrape_configs: scrapeConfigs,
  };
  if (opts.ruleFiles?.length) cfg.rule_files = opts.ruleFiles;
  if (rws.length) {
    cfg.remote_write = rws.map((rw) => ({
      url: rw.url,
      ...(rw.basicAuth ? { basic_auth: { username: rw.basicAuth.user, password: rw.basicAuth.pass } } : {}),
      queue_config: { batch_send_deadline: '1s', max_samples_per_send: 500, ...rw.queueConfig },
      metadata_config: { send: true, send_interval: '5s', ...rw.metadataConfig },
      ...rw.extra,
    }));
  }
  return cfg;
}

export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusInstance> {
  const binary = opts.binary ?? findPrometheus();
  if (!binary) throw new Error(`prometheus is not installed; run: ${PROMETHEUS_INSTALL_HINT}`);
  const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'strata-prom-'));
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  const port = await freePort();
  fs.mkdirSync(dataDir);
  fs.writeFileSync(configFile, JSON.stringify(prometheusConfig(port, opts), null, 2));

  const server = startServerProcess({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      // Otherwise SIGTERM hangs for a minute when the remote-write target is already gone.
      '--storage.remote.flush-deadline=1s',
      ...(opts.extraArgs ?? []),
    ],
    logFile,
    cwd: dir,
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await server.stop(10_000);
      if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    })());
  try {
    await waitReady(server, `${url}/-/ready`, opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await server.stop(2_000);
    if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    port,
    pid: server.pid,
    dir,
    dataDir,
    configFile,
    server,
    log: (maxBytes) => server.log(maxBytes),
    query: async (expr, time) => {
      const q = new URLSearchParams({ query: expr });
      if (time !== undefined) q.set('time', String(time));
      const res = await httpGet(`${url}/api/v1/query?${q.toString()}`);
      return JSON.parse(res.body) as PromApiResponse;
    },
    stop,
  };
}
