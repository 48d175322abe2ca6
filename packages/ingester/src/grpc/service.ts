import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DecodeError, MatchType, Matcher } from '@strata/tsdb-core';

/** `proto/` at the repository root (the same from `src/grpc` and `lib/grpc`). */
export const PROTO_DIR = join(__dirname, '..', '..', '..', '..', 'proto');
export const INGESTER_PROTO = 'strata/ingester.proto';
export const INGESTER_SERVICE_NAME = 'strata.ingester.Ingester';

// Plain-object forms of the small messages (proto-loader: camelCase fields, int64 as numbers).

export interface LabelMatcherMsg {
  type: number;
  name: string;
  value: string;
}

export interface QueryRequestMsg {
  mint: number;
  maxt: number;
  matchers: LabelMatcherMsg[];
}

export interface PushErrorMsg {
  id: string;
  status: number;
  message: string;
}

export interface PushResponseMsg {
  appended: number;
  rejected: number;
  firstError?: PushErrorMsg | null;
}

export type LabelNamesRequestMsg = QueryRequestMsg;
export type MetricsForLabelMatchersRequestMsg = QueryRequestMsg;

export interface LabelValuesRequestMsg extends QueryRequestMsg {
  labelName: string;
}

export interface LabelNamesResponseMsg {
  labelNames: string[];
}

export interface LabelValuesResponseMsg {
  labelValues: string[];
}

export interface MetricsForLabelMatchersResponseMsg {
  series: Buffer[];
}

/** `MetricMetadata`: the fields of tsdb-core's MetricMetadataEntry. */
export interface MetricMetadataMsg {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

export interface MetricsMetadataResponseMsg {
  metadata: MetricMetadataMsg[];
}

export interface UserStatsResponseMsg {
  ingestionRate: number;
  numSeries: number;
}

/**
 * The methods of `strata.ingester.Ingester`. Push requests and QueryStream responses travel as raw
 * bytes here (identity serializers): they are encoded and decoded by the hand-written codecs in
 * codec.ts. Everything else uses proto-loader's protobufjs codecs of the .proto.
 */
export interface IngesterServiceDefinition extends grpc.ServiceDefinition {
  push: grpc.MethodDefinition<Buffer, PushResponseMsg>;
  queryStream: grpc.MethodDefinition<QueryRequestMsg, Buffer>;
  labelNames: grpc.MethodDefinition<LabelNamesRequestMsg, LabelNamesResponseMsg>;
  labelValues: grpc.MethodDefinition<LabelValuesRequestMsg, LabelValuesResponseMsg>;
  metricsForLabelMatchers: grpc.MethodDefinition<MetricsForLabelMatchersRequestMsg, MetricsForLabelMatchersResponseMsg>;
  userStats: grpc.MethodDefinition<Record<string, never>, UserStatsResponseMsg>;
  metricsMetadata: grpc.MethodDefinition<Record<string, never>, MetricsMetadataResponseMsg>;
}

const identity = (b: Buffer): Buffer => b;

let cached: IngesterServiceDefinition | undefined;

/** The service definition, loaded from `proto/strata/ingester.proto` on first use. */
export function ingesterServiceDefinition(): IngesterServiceDefinition {
  if (cached !== undefined) return cached;
  const pkg = protoLoader.loadSync(INGESTER_PROTO, {
    includeDirs: [PROTO_DIR],
    longs: Number,
    enums: Number,
    defaults: true,
    arrays: true,
  });
  const svc = pkg[INGESTER_SERVICE_NAME] as protoLoader.ServiceDefinition | undefined;
  if (svc === undefined) throw new Error(`${INGESTER_SERVICE_NAME} not found in ${join(PROTO_DIR, INGESTER_PROTO)}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const m = (name: string): grpc.MethodDefinition<any, any> => {
    const d = svc[name];
    if (d === undefined) throw new Error(`${INGESTER_SERVICE_NAME}/${name} not found in ${INGESTER_PROTO}`);
    return {
      path: d.path,
      requestStream: d.requestStream,
      responseStream: d.responseStream,
      requestSerialize: d.requestSerialize,
      requestDeserialize: d.requestDeserialize,
      responseSerialize: d.responseSerialize,
      responseDeserialize: d.responseDeserialize,
    };
  };
  cached = {
    push: { ...m('Push'), requestSerialize: identity, requestDeserialize: identity },
    queryStream: { ...m('QueryStream'), responseSerialize: identity, responseDeserialize: identity },
    labelNames: m('LabelNames'),
    labelValues: m('LabelValues'),
    metricsForLabelMatchers: m('MetricsForLabelMatchers'),
    userStats: m('UserStats'),
    metricsMetadata: m('MetricsMetadata'),
  };
  return cached;
}

export function matchersToMsg(ms: readonly Matcher[]): LabelMatcherMsg[] {
  return ms.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

/** Rebuilds matchers; throws DecodeError for an unknown type and RegexSyntaxError for a bad regex. */
export function matchersFromMsg(ms: readonly LabelMatcherMsg[] | null | undefined): Matcher[] {
  return (ms ?? []).map((m) => {
    const t = m.type;
    if (t !== MatchType.EQ && t !== MatchType.NEQ && t !== MatchType.RE && t !== MatchType.NRE) {
      throw new DecodeError(`unknown label matcher type ${String(t)}`);
    }
    return new Matcher(t, m.name, m.value);
  });
}
