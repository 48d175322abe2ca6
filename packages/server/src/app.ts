import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import express from 'express';
import * as grpc from '@grpc/grpc-js';
import {
  Lifecycler,
  Overrides,
  Ring,
  configToYaml,
  createKV,
  createRegistry,
  defaultConfig,
  forgetInstance,
  limitsFromConfig,
  renderRingHTML,
  resolveTenant,
  ringJSON,
  type Config,
  type KVClient,
  type Logger,
  type Registry,
  type TenantResolverConfig,
} from '@strata/common';
import { Distributor, HADedupe, HATracker, createHATrackerHandler, createPushHandler, haTrackerConfigFromConfig } from '@strata/distributor';
import { Ingester, IngesterClientPool, addIngesterService } from '@strata/ingester';
import { createBucket, type Bucket } from '@strata/objstore';
import { Engine, PromQLError, inspect, parseExpr } from '@strata/promql';
import { BucketStore, MergeQuerier, RingIngesterQuerier, createPrometheusApiRouter } from '@strata/querier';
import type { IngesterClient } from '@strata/tsdb-core';
import { parseSeriesSelector } from './selector';
import { BUILD_INFO } from './version';

const RING_KEY = 'ring/ingester';

type Stopper = () => Promise<void> | void;

/**
 * The module graph of one `strata` process. `-target=all` runs every component in-process (an
 * in-memory ring holding the one local ingester); `distributor`, `ingester` and `querier` run one
 * component each, talking gRPC and sharing a ring in Redis and a bucket.
 */
export class Strata {
  readonly registry: Registry;
  private readonly overrides: Overrides;
  private http: Server | undefined;
  private grpc: grpc.Server | undefined;
  private ready = false;
  private notReadyReason = 'starting';
  private readonly stoppers: Stopper[] = [];
  private kv: KVClient | undefined;
  private ring: Ring | undefined;
  private lifecycler: Lifecycler | undefined;
  private ingester: Ingester | undefined;
  private distributor: Distributor | undefined;
  private haTracker: HATracker | undefined;
  private store: BucketStore | undefined;
  private pool: IngesterClientPool | undefined;
  httpPort = 0;
  grpcPort = 0;

  constructor(
    readonly cfg: Config,
    private readonly logger: Logger,
  ) {
    this.registry = createRegistry(true);
    this.overrides = new Overrides(limitsFromConfig(cfg), cfg['runtime-config.file'], cfg['runtime-config.reload-period'], logger);
  }

  private get target(): string {
    return this.cfg.target;
  }

  private has(component: 'distributor' | 'ingester' | 'querier'): boolean {
    return this.target === 'all' || this.target === component;
  }

  private tenantConfig(): TenantResolverConfig {
    return {
      multitenancyEnabled: this.cfg['auth.multitenancy-enabled'],
      noAuthTenant: this.cfg['auth.no-auth-tenant'],
      tenantFromBasicAuth: this.cfg['auth.tenant-from-basic-auth'],
    };
  }

  private async createBucket(): Promise<Bucket> {
    const cfg = this.cfg;
    const bucket = await createBucket(
      {
        backend: cfg['blocks-storage.backend'] as 'filesystem' | 's3',
        filesystemDir: cfg['blocks-storage.filesystem.dir'],
        s3: {
          endpoint: cfg['blocks-storage.s3.endpoint'],
          bucketName: cfg['blocks-storage.s3.bucket-name'],
          accessKeyId: cfg['blocks-storage.s3.access-key-id'],
          secretAccessKey: cfg['blocks-storage.s3.secret-access-key'],
          insecure: cfg['blocks-storage.s3.insecure'],
          region: cfg['blocks-storage.s3.region'],
        },
      },
      { registry: this.registry, logger: this.logger.child({ component: 'objstore' }) },
    );
    this.stoppers.push(() => bucket.close?.());
    return bucket;
  }

  /** The ingester that reads and writes go to in-process (all mode), or gRPC clients by address. */
  private clientFor(addr: string): IngesterClient {
    if (this.target === 'all') return this.ingester!;
    return this.pool!.get(addr);
  }

  private async init(): Promise<void> {
    const cfg = this.cfg;
    const logger = this.logger;
    const inMemoryRing = cfg['ingester.ring.store'] === 'inmemory';
    if (this.target !== 'all' && inMemoryRing) {
      throw new Error(`-target=${this.target} needs a shared ring: set -ingester.ring.store=redis`);
    }
    this.kv = createKV({ store: cfg['ingester.ring.store'] as 'inmemory' | 'redis', redisEndpoint: cfg['ingester.ring.redis.endpoint'], prefix: cfg['ingester.ring.prefix'] }, logger);
    this.stoppers.push(() => this.kv!.close());
    // With -target=all and the in-memory ring there is exactly one ingester: replication factor 1.
    const rf = this.target === 'all' && inMemoryRing ? 1 : cfg['ingester.ring.replication-factor'];
    this.ring = new Ring(
      { ringKey: RING_KEY, heartbeatTimeout: cfg['ingester.ring.heartbeat-timeout'], replicationFactor: rf, zoneAwarenessEnabled: cfg['ingester.ring.zone-awareness-enabled'] },
      { kv: this.kv, logger },
    );
    if (this.target !== 'all') {
      this.pool = new IngesterClientPool({
        timeoutMs: cfg['distributor.remote-timeout'],
        queryTimeoutMs: cfg['querier.timeout'],
        maxRecvMsgSize: cfg['ingester.client.grpc-max-recv-msg-size'],
        maxSendMsgSize: cfg['ingester.client.grpc-max-send-msg-size'],
      });
      this.stoppers.push(() => {
        this.pool!.prune([]);
      });
    }
    const needsBucket = this.has('ingester') || this.has('querier');
    const bucket = needsBucket ? await this.createBucket() : undefined;
    if (this.has('ingester')) {
      this.ingester = new Ingester(
        {
          tsdbDir: cfg['blocks-storage.tsdb.dir'],
          blockRange: cfg['blocks-storage.tsdb.block-ranges-period'],
          headCompactionInterval: cfg['blocks-storage.tsdb.head-compaction-interval'],
          headCompactionIdleTimeout: cfg['blocks-storage.tsdb.head-compaction-idle-timeout'],
          shipInterval: cfg['blocks-storage.tsdb.ship-interval'],
          retentionPeriod: cfg['blocks-storage.tsdb.retention-period'],
          closeIdleTsdbTimeout: cfg['blocks-storage.tsdb.close-idle-tsdb-timeout'],
          metadataRetainPeriod: cfg['ingester.metadata-retain-period'],
        },
        { overrides: this.overrides, registry: this.registry, logger: logger.child({ component: 'ingester' }), bucket },
      );
      const port = cfg['ingester.ring.instance-port'] || cfg['server.grpc-listen-port'];
      this.lifecycler = new Lifecycler(
        {
          id: cfg['ingester.ring.instance-id'] || hostname(),
          addr: `${cfg['ingester.ring.instance-addr']}:${port}`,
          zone: cfg['ingester.ring.zone'],
          numTokens: cfg['ingester.ring.num-tokens'],
          heartbeatPeriod: cfg['ingester.ring.heartbeat-period'],
          ringKey: RING_KEY,
        },
        { kv: this.kv, logger },
      );
    }
    if (this.has('distributor')) {
      let haDedupe: HADedupe | undefined;
      if (cfg['distributor.ha-tracker.enable']) {
        this.haTracker = new HATracker(haTrackerConfigFromConfig(cfg), {
          kv: this.kv,
          overrides: this.overrides,
          registry: this.registry,
          logger,
        });
        haDedupe = new HADedupe({ tracker: this.haTracker, overrides: this.overrides, registry: this.registry });
      }
      this.distributor = new Distributor(
        { maxRecvMsgSize: cfg['distributor.max-recv-msg-size'] },
        {
          // One in-process ingester in -target=all: no ring lookups on the hot path.
          ...(this.target === 'all' ? { ingester: this.ingester } : { replicator: { ring: this.ring, clientFor: (inst) => this.clientFor(inst.addr) } }),
          haDedupe,
          overrides: this.overrides,
          registry: this.registry,
          logger: logger.child({ component: 'distributor' }),
        },
      );
    }
    if (this.has('querier')) {
      this.store = new BucketStore(bucket!, { syncInterval: cfg['blocks-storage.bucket-store.sync-interval'] }, logger.child({ component: 'querier' }), this.registry);
    }
  }

  /** A tenant's merged view: ingesters (through the ring) for recent data, the bucket for older data. */
  private querierFor(tenant: string): MergeQuerier {
    const within = this.cfg['querier.query-ingesters-within'];
    const after = this.cfg['querier.query-store-after'];
    return new MergeQuerier([
      {
        querier: new RingIngesterQuerier(this.ring!, (i) => this.clientFor(i.addr), tenant),
        minTime: () => (within > 0 ? Date.now() - within : -Infinity),
        maxTime: () => Infinity,
      },
      {
        querier: this.store!.querier(tenant),
        minTime: () => -Infinity,
        maxTime: () => (after > 0 ? Date.now() - after : Infinity),
      },
    ]);
  }

  private buildApp(): express.Express {
    const cfg = this.cfg;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const tenantCfg = this.tenantConfig();
    const links = ['/ready', '/metrics', '/config', '/ingester/ring'];
    if (this.distributor !== undefined) {
      const push = createPushHandler(
        { ...tenantCfg, maxRecvMsgSize: cfg['distributor.max-recv-msg-size'] },
        this.distributor,
        this.logger.child({ component: 'distributor' }),
      );
      app.post('/api/v1/push', (req, res, next) => {
        push(req, res).catch(next);
      });
      if (this.haTracker !== undefined) {
        app.get('/distributor/ha_tracker', createHATrackerHandler(this.haTracker));
        links.push('/distributor/ha_tracker');
      }
    }
    if (this.store !== undefined) {
      const engine = new Engine({
        lookbackDelta: cfg['querier.lookback-delta'],
        maxSamples: cfg['querier.max-samples'],
        timeoutMs: cfg['querier.timeout'],
      });
      app.use(
        cfg['http.prometheus-http-prefix'],
        createPrometheusApiRouter({
          engine,
          parseSelector: parseSeriesSelector,
          querierFor: (tenant: string) => this.querierFor(tenant),
          tenantFrom: (req) => resolveTenant(tenantCfg, req.headers),
          buildInfo: BUILD_INFO,
          maxQueryLength: (tenant: string) => this.overrides.maxQueryLength(tenant),
          metadataFor: (tenant: string) => new RingIngesterQuerier(this.ring!, (i) => this.clientFor(i.addr), tenant).metadata(),
          countSelectors: (expr: string) => {
            let n = 0;
            inspect(parseExpr(expr), (node) => {
              if (node.type === 'VectorSelector') n++;
            });
            return n;
          },
          logger: this.logger.child({ component: 'querier' }),
        }),
      );
      links.push(`${cfg['http.prometheus-http-prefix']}/api/v1/status/buildinfo`);
    }
    app.get('/ingester/ring', (req, res) => {
      const now = Date.now();
      if (req.query['format'] === 'json' || (req.headers.accept ?? '').includes('application/json')) {
        res.json(ringJSON(this.ring!, now));
      } else {
        res.type('text/html').send(renderRingHTML(this.ring!, now));
      }
    });
    app.post('/ingester/ring', express.urlencoded({ extended: false }), (req, res, next) => {
      const id = (req.body as Record<string, unknown>)['forget'];
      if (typeof id !== 'string' || id === '') {
        res.status(400).type('text/plain').send('forget: missing instance ID\n');
        return;
      }
      forgetInstance(this.kv!, RING_KEY, id)
        .then(() => res.redirect(303, req.originalUrl))
        .catch(next);
    });
    app.get('/ready', (_req, res) => {
      if (this.ready) res.type('text/plain').send('ready\n');
      else res.status(503).type('text/plain').send(`not ready: ${this.notReadyReason}\n`);
    });
    app.get('/metrics', (_req, res, next) => {
      this.registry
        .metrics()
        .then((text) => res.type(this.registry.contentType).send(text))
        .catch(next);
    });
    app.get('/config', (req, res) => {
      const mode = req.query['mode'];
      const text = mode === 'defaults' ? configToYaml(defaultConfig()) : configToYaml(cfg, mode === 'diff');
      res.type('text/plain').send(text);
    });
    app.get('/', (_req, res) => {
      res.type('text/html').send(
        `<!doctype html><title>Strata</title><h1>Strata (${this.target})</h1><ul>` +
          links.map((p) => `<li><a href="${p}">${p}</a></li>`).join('') +
          `</ul>`,
      );
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (err instanceof PromQLError) {
        res.status(400).json({ status: 'error', errorType: err.errorType, error: err.message });
        return;
      }
      this.logger.error({ err: err.message }, 'request failed');
      if (!res.headersSent) res.status(500).type('text/plain').send(err.message + '\n');
    });
    return app;
  }

  async start(): Promise<void> {
    const cfg = this.cfg;
    await this.init();
    this.http = createServer({ keepAliveTimeout: 65_000 }, this.buildApp());
    await listen(this.http, cfg['server.http-listen-port'], cfg['server.http-listen-address']);
    this.httpPort = (this.http.address() as { port: number }).port;
    this.grpc = new grpc.Server({
      'grpc.max_receive_message_length': cfg['server.grpc-max-recv-msg-size-bytes'],
      'grpc.max_send_message_length': cfg['server.grpc-max-send-msg-size-bytes'],
    });
    if (this.ingester !== undefined) {
      const ingester = this.ingester;
      addIngesterService(this.grpc, ingester, { logger: this.logger.child({ component: 'ingester-grpc' }), userStats: (t) => ingester.userStats(t) });
    }
    this.grpcPort = await new Promise<number>((resolve, reject) => {
      const host = cfg['server.grpc-listen-address'] === '' ? '0.0.0.0' : cfg['server.grpc-listen-address'];
      this.grpc!.bindAsync(`${host}:${cfg['server.grpc-listen-port']}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    this.logger.info({ http: this.httpPort, grpc: this.grpcPort, target: this.target }, 'listening');
    await this.overrides.start();
    await this.ring!.start();
    if (this.lifecycler !== undefined) {
      // JOINING while the WAL is replayed, then ACTIVE.
      this.notReadyReason = 'ingester is JOINING (replaying its WAL)';
      await this.lifecycler.start();
      await this.ingester!.start();
      await this.lifecycler.setState('ACTIVE');
    }
    await this.haTracker?.start();
    await this.store?.start();
    this.ready = true;
    this.logger.info({ target: this.target }, 'Strata started');
  }

  /**
   * Graceful stop. An ingester in a shared ring goes LEAVING, refuses new writes, cuts and ships
   * its head, then leaves the ring. Then in-flight requests finish and WALs are closed.
   */
  async stop(): Promise<void> {
    this.ready = false;
    this.notReadyReason = 'stopping';
    if (this.lifecycler !== undefined && this.target === 'ingester') {
      await this.lifecycler.setState('LEAVING');
      this.ingester!.setLeaving();
      try {
        await this.ingester!.flushAll();
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'flushing the head on shutdown failed; the WAL keeps the data');
      }
    }
    await this.lifecycler?.stop();
    const http = this.http;
    if (http !== undefined) {
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeIdleConnections();
      const timer = setTimeout(() => http.closeAllConnections(), this.cfg['server.graceful-shutdown-timeout']);
      await closed;
      clearTimeout(timer);
    }
    this.grpc?.forceShutdown();
    this.overrides.stop();
    this.ring?.stop();
    await this.haTracker?.stop();
    await this.ingester?.stop();
    await this.store?.stop();
    for (const s of this.stoppers.reverse()) await s();
    this.logger.info('Strata stopped');
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
