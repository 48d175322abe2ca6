import * as grpc from '@grpc/grpc-js';
import { ORG_ID_HEADER, StrataError, tenantIdError } from '@strata/common';
import {
  labelsFromSeriesKey,
  type ChunkData,
  type IngesterClient,
  type Labels,
  type Matcher,
  type MetricMetadataEntry,
  type PushResult,
  type SeriesChunks,
  type WriteBatch,
} from '@strata/tsdb-core';
import { decodeQueryStreamResponse, encodePushRequest } from './codec';
import { fromServiceError, IngesterGrpcError } from './errors';
import type { UserStats } from './server';
import { ingesterServiceDefinition, matchersToMsg, type IngesterServiceDefinition } from './service';

export interface IngesterGrpcClientOptions {
  /** Deadline of a push (`-distributor.remote-timeout`, default 2 s). */
  timeoutMs?: number;
  /** Deadline of the read calls: QueryStream, label names/values, series, metadata, user stats (`-querier.timeout`, default 2 min). */
  queryTimeoutMs?: number;
  /** `-ingester.client.grpc-max-recv-msg-size` (default 100 MiB). */
  maxRecvMsgSize?: number;
  /** `-ingester.client.grpc-max-send-msg-size` (default 100 MiB). */
  maxSendMsgSize?: number;
}

export const DEFAULT_PUSH_TIMEOUT_MS = 2000;

/** Encoded PushRequests by batch, shared by all clients; entries go with their batch. */
const encodedBatches = new WeakMap<WriteBatch, Buffer>();
export const DEFAULT_QUERY_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_MSG_SIZE = 100 << 20;

/** An IngesterClient talking to a remote ingester over gRPC (`strata.ingester.Ingester`). */
export class IngesterGrpcClient implements IngesterClient {
  private readonly client: grpc.Client;
  private readonly def: IngesterServiceDefinition;
  private readonly timeoutMs: number;
  private readonly queryTimeoutMs: number;
  private closed = false;

  constructor(
    /** `host:port` of the ingester's gRPC server. */
    readonly addr: string,
    opts: IngesterGrpcClientOptions = {},
  ) {
    this.def = ingesterServiceDefinition();
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': opts.maxRecvMsgSize ?? DEFAULT_MAX_MSG_SIZE,
      'grpc.max_send_message_length': opts.maxSendMsgSize ?? DEFAULT_MAX_MSG_SIZE,
      // Our own channel, so that closing this client never affects another one to the same address.
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  private metadata(tenant: string): grpc.Metadata {
    const md = new grpc.Metadata();
    try {
      md.set(ORG_ID_HEADER, tenant);
    } catch (e) {
      throw new StrataError('tenant-invalid', 400, tenantIdError(tenant) ?? (e as Error).message);
    }
    return md;
  }

  private unary<Req, Res>(m: grpc.MethodDefinition<Req, Res>, name: string, tenant: string, req: Req, timeoutMs: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.closed) throw this.closedError();
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        this.metadata(tenant),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(fromServiceError(err, this.addr, name, timeoutMs)) : resolve(res!)),
      );
    });
  }

  private closedError(): IngesterGrpcError {
    return new IngesterGrpcError('ingester-unavailable', 503, `client to ingester ${this.addr} is closed`, grpc.status.UNAVAILABLE, this.addr);
  }

  async push(tenant: string, batch: WriteBatch): Promise<PushResult> {
    // With replication the same batch often goes to several ingesters: encode it once.
    let body = encodedBatches.get(batch);
    if (body === undefined) {
      body = encodePushRequest(batch);
      encodedBatches.set(batch, body);
    }
    const r = await this.unary(this.def.push, 'Push', tenant, body, this.timeoutMs);
    const fe = r.firstError;
    return fe === null || fe === undefined
      ? { appended: r.appended, rejected: r.rejected }
      : { appended: r.appended, rejected: r.rejected, firstError: { id: fe.id, status: fe.status, message: fe.message } };
  }

  /** Streams the chunks of matching series; batches are concatenated into one list sorted by labels. */
  queryChunks(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    const m = this.def.queryStream;
    const timeoutMs = this.queryTimeoutMs;
    return new Promise<SeriesChunks[]>((resolve, reject) => {
      if (this.closed) throw this.closedError();
      const call = this.client.makeServerStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        { mint, maxt, matchers: matchersToMsg(matchers) },
        this.metadata(tenant),
        { deadline: Date.now() + timeoutMs },
      );
      const keys: string[] = [];
      const chunks: ChunkData[][] = [];
      let settled = false;
      call.on('data', (msg: Buffer) => {
        if (settled) return;
        try {
          for (const e of decodeQueryStreamResponse(msg)) {
            // A series continued from the previous message has the same key.
            if (keys.length > 0 && keys[keys.length - 1] === e.key) chunks[chunks.length - 1]!.push(...e.chunks);
            else {
              keys.push(e.key);
              chunks.push(e.chunks);
            }
          }
        } catch (e) {
          settled = true;
          call.cancel();
          reject(
            new IngesterGrpcError(
              'ingester-bad-response',
              500,
              `QueryStream from ingester ${this.addr}: cannot decode response: ${(e as Error).message}`,
              grpc.status.INTERNAL,
              this.addr,
            ),
          );
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (settled) return;
        settled = true;
        reject(fromServiceError(err, this.addr, 'QueryStream', timeoutMs));
      });
      call.on('end', () => {
        if (settled) return;
        settled = true;
        const out = new Array<SeriesChunks>(keys.length);
        for (let i = 0; i < keys.length; i++) out[i] = { labels: labelsFromSeriesKey(keys[i]!), chunks: chunks[i]! };
        resolve(out);
      });
    });
  }

  async labelNames(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const req = { mint, maxt, matchers: matchersToMsg(matchers) };
    return (await this.unary(this.def.labelNames, 'LabelNames', tenant, req, this.queryTimeoutMs)).labelNames;
  }

  async labelValues(tenant: string, name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const req = { labelName: name, mint, maxt, matchers: matchersToMsg(matchers) };
    return (await this.unary(this.def.labelValues, 'LabelValues', tenant, req, this.queryTimeoutMs)).labelValues;
  }

  async series(tenant: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Labels[]> {
    const req = { mint, maxt, matchers: matchersToMsg(matchers) };
    const r = await this.unary(this.def.metricsForLabelMatchers, 'MetricsForLabelMatchers', tenant, req, this.queryTimeoutMs);
    return r.series.map((b) => labelsFromSeriesKey(b.toString('latin1')));
  }

  /** The tenant's metric metadata held by the ingester, each distinct entry once. */
  async metricsMetadata(tenant: string): Promise<MetricMetadataEntry[]> {
    const r = await this.unary(this.def.metricsMetadata, 'MetricsMetadata', tenant, {}, this.queryTimeoutMs);
    return r.metadata.map((m) => ({ type: m.type, metricFamilyName: m.metricFamilyName, help: m.help, unit: m.unit }));
  }

  /** The tenant's series count (and ingestion rate, 0 when the ingester does not track it). */
  async userStats(tenant: string): Promise<Required<UserStats>> {
    const r = await this.unary(this.def.userStats, 'UserStats', tenant, {}, this.queryTimeoutMs);
    return { numSeries: r.numSeries, ingestionRate: r.ingestionRate };
  }

  /** Closes the channel; later calls fail with 503. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}
