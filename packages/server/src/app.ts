import { createServer, type Server } from 'node:http';
import express from 'express';
import * as grpc from '@grpc/grpc-js';
import {
  Overrides,
  configToYaml,
  createRegistry,
  defaultConfig,
  limitsFromConfig,
  resolveTenant,
  type Config,
  type Logger,
  type Registry,
  type TenantResolverConfig,
} from '@strata/common';
import { Distributor, createPushHandler } from '@strata/distributor';
import { Ingester } from '@strata/ingester';
import { Engine, PromQLError } from '@strata/promql';
import { parseSeriesSelector } from './selector';
import { createBucket, type Bucket } from '@strata/objstore';
import { BucketStore, IngesterQuerier, MergeQuerier, createPrometheusApiRouter } from '@strata/querier';
import { BUILD_INFO } from './version';

/** The module graph of one `strata` process. Only `-target=all` exists so far. */
export class Strata {
  readonly registry: Registry;
  private readonly overrides: Overrides;
  private ingester!: Ingester;
  private distributor!: Distributor;
  private bucket: Bucket | undefined;
  private store: BucketStore | undefined;
  private http: Server | undefined;
  private grpc: grpc.Server | undefined;
  private ready = false;
  httpPort = 0;
  grpcPort = 0;

  constructor(
    readonly cfg: Config,
    private readonly logger: Logger,
  ) {
    this.registry = createRegistry(true);
    this.overrides = new Overrides(limitsFromConfig(cfg), cfg['runtime-config.file'], cfg['runtime-config.reload-period'], logger);
  }

  /** Builds the components that need the bucket (created asynchronously: S3 may need a bucket). */
  private async init(): Promise<void> {
    const cfg = this.cfg;
    const logger = this.logger;
    this.bucket = await createBucket(
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
      { registry: this.registry, logger: logger.child({ component: 'objstore' }) },
    );
    this.ingester = new Ingester(
      {
        tsdbDir: cfg['blocks-storage.tsdb.dir'],
        blockRange: cfg['blocks-storage.tsdb.block-ranges-period'],
        headCompactionInterval: cfg['blocks-storage.tsdb.head-compaction-interval'],
        headCompactionIdleTimeout: cfg['blocks-storage.tsdb.head-compaction-idle-timeout'],
        shipInterval: cfg['blocks-storage.tsdb.ship-interval'],
        retentionPeriod: cfg['blocks-storage.tsdb.retention-period'],
        closeIdleTsdbTimeout: cfg['blocks-storage.tsdb.close-idle-tsdb-timeout'],
      },
      { overrides: this.overrides, registry: this.registry, logger: logger.child({ component: 'ingester' }), bucket: this.bucket },
    );
    this.distributor = new Distributor(
      { maxRecvMsgSize: cfg['distributor.max-recv-msg-size'] },
      {
        ingester: this.ingester,
        overrides: this.overrides,
        registry: this.registry,
        logger: logger.child({ component: 'distributor' }),
      },
    );
    this.store = new BucketStore(
      this.bucket,
      { syncInterval: cfg['blocks-storage.bucket-store.sync-interval'] },
      logger.child({ component: 'querier' }),
      this.registry,
    );
  }

  /** A tenant's merged view: ingesters for recent data, the bucket for older data. */
  private querierFor(tenant: string): MergeQuerier {
    const within = this.cfg['querier.query-ingesters-within'];
    const after = this.cfg['querier.query-store-after'];
    return new MergeQuerier([
      {
        querier: new IngesterQuerier(this.ingester, tenant),
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

  private tenantConfig(): TenantResolverConfig {
    return {
      multitenancyEnabled: this.cfg['auth.multitenancy-enabled'],
      noAuthTenant: this.cfg['auth.no-auth-tenant'],
      tenantFromBasicAuth: this.cfg['auth.tenant-from-basic-auth'],
    };
  }

  private buildApp(): express.Express {
    const cfg = this.cfg;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const tenantCfg = this.tenantConfig();
    const push = createPushHandler(
      { ...tenantCfg, maxRecvMsgSize: cfg['distributor.max-recv-msg-size'] },
      this.distributor,
      this.logger.child({ component: 'distributor' }),
    );
    app.post('/api/v1/push', (req, res, next) => {
      push(req, res).catch(next);
    });
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
        logger: this.logger.child({ component: 'querier' }),
      }),
    );
    app.get('/ready', (_req, res) => {
      if (this.ready) res.type('text/plain').send('ready\n');
      else res.status(503).type('text/plain').send('not ready: starting\n');
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
        `<!doctype html><title>Strata</title><h1>Strata</h1><ul>` +
          ['/ready', '/metrics', '/config', `${cfg['http.prometheus-http-prefix']}/api/v1/status/buildinfo`]
            .map((p) => `<li><a href="${p}">${p}</a></li>`)
            .join('') +
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
    this.grpc = new grpc.Server();
    this.grpcPort = await new Promise<number>((resolve, reject) => {
      const host = cfg['server.grpc-listen-address'] === '' ? '0.0.0.0' : cfg['server.grpc-listen-address'];
      this.grpc!.bindAsync(`${host}:${cfg['server.grpc-listen-port']}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    this.logger.info({ http: this.httpPort, grpc: this.grpcPort }, 'listening');
    await this.overrides.start();
    await this.ingester.start();
    await this.store!.start();
    this.ready = true;
    this.logger.info({ target: cfg.target }, 'Strata started');
  }

  /** Graceful stop: refuse new connections, finish in-flight requests, then flush and close WALs. */
  async stop(): Promise<void> {
    this.ready = false;
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
    await this.ingester?.stop();
    await this.store?.stop();
    await this.bucket?.close?.();
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
