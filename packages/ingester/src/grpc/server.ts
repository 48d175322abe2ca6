import * as grpc from '@grpc/grpc-js';
import { ORG_ID_HEADER, StrataError, tenantIdError, type Logger } from '@strata/common';
import { seriesKeyFromLabels, type IngesterClient } from '@strata/tsdb-core';
import { decodePushRequest, encodeQueryStreamResponses, QUERY_STREAM_BATCH_BYTES } from './codec';
import { classifyError, toServiceError } from './errors';
import {
  ingesterServiceDefinition,
  matchersFromMsg,
  type LabelNamesRequestMsg,
  type LabelNamesResponseMsg,
  type LabelValuesRequestMsg,
  type LabelValuesResponseMsg,
  type MetricsForLabelMatchersRequestMsg,
  type MetricsForLabelMatchersResponseMsg,
  type MetricsMetadataResponseMsg,
  type PushResponseMsg,
  type QueryRequestMsg,
  type UserStatsResponseMsg,
} from './service';

/** What UserStats reports for a tenant. */
export interface UserStats {
  /** Series in the tenant's head. */
  numSeries: number;
  /** Samples/s ingested, when the ingester tracks it. */
  ingestionRate?: number;
}

/** What the gRPC service serves: an IngesterClient, and optionally per-tenant stats. */
export type IngesterServiceImpl = IngesterClient & { userStats?(tenant: string): Promise<UserStats> };

export interface IngesterServiceOptions {
  logger?: Logger;
  /** Per-tenant stats for UserStats; takes precedence over `impl.userStats`. Without either, UserStats is UNIMPLEMENTED. */
  userStats?: (tenant: string) => Promise<UserStats>;
  /** Byte budget of one QueryStream message (default 1 MiB, as Mimir). */
  queryStreamBatchBytes?: number;
}

/** Validates the `x-scope-orgid` metadata of a call as Mimir's gRPC auth middleware does. */
export function tenantFromMetadata(md: grpc.Metadata): string {
  const values = md.get(ORG_ID_HEADER);
  const v = values[0];
  if (v === undefined || v === '' || Buffer.isBuffer(v)) throw new StrataError('no-org-id', 401, 'no org id');
  if (values.length > 1 || v.includes('|')) throw new StrataError('tenant-invalid', 400, 'multiple org IDs present');
  const err = tenantIdError(v);
  if (err !== null) throw new StrataError('tenant-invalid', 400, err);
  return v;
}

/** Adds the `strata.ingester.Ingester` service, backed by `impl`, to a gRPC server. */
export function addIngesterService(server: grpc.Server, impl: IngesterServiceImpl, opts: IngesterServiceOptions = {}): void {
  const def = ingesterServiceDefinition();
  const logger = opts.logger;
  const budget = opts.queryStreamBatchBytes ?? QUERY_STREAM_BATCH_BYTES;
  const userStats = opts.userStats ?? (impl.userStats !== undefined ? impl.userStats.bind(impl) : undefined);

  const fail = (method: string, tenant: string | undefined, e: unknown) => {
    const err = toServiceError(e);
    if (logger !== undefined) {
      const { status } = classifyError(e);
      const fields = { method, tenant, status, err: err.details };
      if (status >= 500) logger.warn(fields, 'ingester gRPC call failed');
      else logger.debug(fields, 'ingester gRPC call rejected');
    }
    return err;
  };

  /** Runs a unary handler: resolves the tenant, calls `f`, maps errors to gRPC statuses. */
  const unary =
    <Req, Res>(method: string, f: (tenant: string, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      let tenant: string | undefined;
      Promise.resolve()
        .then(() => {
          tenant = tenantFromMetadata(call.metadata);
          return f(tenant, call.request);
        })
        .then(
          (res) => callback(null, res),
          (e: unknown) => callback(fail(method, tenant, e)),
        );
    };

  const queryStream: grpc.handleServerStreamingCall<QueryRequestMsg, Buffer> = (call) => {
    let tenant: string | undefined;
    (async () => {
      tenant = tenantFromMetadata(call.metadata);
      const req = call.request;
      const series = await impl.queryChunks(tenant, req.mint, req.maxt, matchersFromMsg(req.matchers));
      for (const msg of encodeQueryStreamResponses(series, budget)) {
        if (call.cancelled) return;
        if (!call.write(msg) && !(await drained(call))) return;
      }
      call.end();
    })().catch((e: unknown) => {
      if (!call.cancelled) call.emit('error', fail('QueryStream', tenant, e));
    });
  };

  const impls: grpc.UntypedServiceImplementation = {
    push: unary<Buffer, PushResponseMsg>('Push', async (tenant, body) => {
      const batch = decodePushRequest(body);
      const r = await impl.push(tenant, batch);
      return {
        appended: r.appended,
        rejected: r.rejected,
        firstError: r.firstError === undefined ? null : { id: r.firstError.id, status: r.firstError.status, message: r.firstError.message },
      };
    }),
    queryStream,
    labelNames: unary<LabelNamesRequestMsg, LabelNamesResponseMsg>('LabelNames', async (tenant, req) => ({
      labelNames: await impl.labelNames(tenant, req.mint, req.maxt, matchersFromMsg(req.matchers)),
    })),
    labelValues: unary<LabelValuesRequestMsg, LabelValuesResponseMsg>('LabelValues', async (tenant, req) => ({
      labelValues: await impl.labelValues(tenant, req.labelName, req.mint, req.maxt, matchersFromMsg(req.matchers)),
    })),
    metricsForLabelMatchers: unary<MetricsForLabelMatchersRequestMsg, MetricsForLabelMatchersResponseMsg>(
      'MetricsForLabelMatchers',
      async (tenant, req) => ({
        series: (await impl.series(tenant, req.mint, req.maxt, matchersFromMsg(req.matchers))).map((ls) =>
          Buffer.from(seriesKeyFromLabels(ls), 'latin1'),
        ),
      }),
    ),
    metricsMetadata: unary<Record<string, never>, MetricsMetadataResponseMsg>('MetricsMetadata', async (tenant) => ({
      metadata: (await impl.metricsMetadata(tenant)).map((m) => ({ type: m.type, metricFamilyName: m.metricFamilyName, help: m.help, unit: m.unit })),
    })),
    userStats: unary<Record<string, never>, UserStatsResponseMsg>('UserStats', async (tenant) => {
      if (userStats === undefined) throw new StrataError('not-implemented', 501, 'this ingester does not report user stats');
      const s = await userStats(tenant);
      return { numSeries: s.numSeries, ingestionRate: s.ingestionRate ?? 0 };
    }),
  };
  server.addService(def, impls);
}

/** Resolves true when the stream can take more, false when the call ended first. */
function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      call.off('drain', onDrain);
      call.off('cancelled', onEnd);
      call.off('close', onEnd);
      call.off('finish', onEnd);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onEnd = () => done(false);
    call.on('drain', onDrain);
    call.on('cancelled', onEnd);
    call.on('close', onEnd);
    call.on('finish', onEnd);
  });
}

export interface IngesterGrpcServerOptions extends IngesterServiceOptions {
  /** Listen address (`-server.grpc-listen-address`); default all interfaces. */
  host?: string;
  /** Listen port (`-server.grpc-listen-port`, default 9095; 0 = any free port). */
  port?: number;
  /** `-server.grpc-max-recv-msg-size-bytes` (default 100 MiB). */
  maxRecvMsgSize?: number;
  /** `-server.grpc-max-send-msg-size-bytes` (default 100 MiB). */
  maxSendMsgSize?: number;
}

export interface IngesterGrpcServer {
  /** The bound port. */
  port: number;
  server: grpc.Server;
  /** Stops accepting calls, waits up to `graceMs` (default 5 s) for running ones, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_GRPC_MAX_MSG_SIZE = 100 << 20;

/** Starts a gRPC server serving only the ingester service. */
export async function startIngesterGrpcServer(impl: IngesterServiceImpl, opts: IngesterGrpcServerOptions = {}): Promise<IngesterGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxRecvMsgSize ?? DEFAULT_GRPC_MAX_MSG_SIZE,
    'grpc.max_send_message_length': opts.maxSendMsgSize ?? DEFAULT_GRPC_MAX_MSG_SIZE,
  });
  addIngesterService(server, impl, opts);
  const host = opts.host ?? '0.0.0.0';
  const addr = host.includes(':') && !host.startsWith('[') ? `[${host}]:${opts.port ?? 9095}` : `${host}:${opts.port ?? 9095}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  let stopping: Promise<void> | undefined;
  return {
    port,
    server,
    stop(graceMs = 5000) {
      stopping ??= new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      return stopping;
    },
  };
}
