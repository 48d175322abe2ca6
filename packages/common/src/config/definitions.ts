/**
 * Every configuration option in one table: it feeds the flag parser, YAML validation, `/config`
 * and the reference in docs/configuration.md. Names and defaults follow Mimir where the meaning is
 * the same.
 */
export type Kind = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'bytes';

export interface Def<K extends string = string, T = unknown> {
  readonly flag: K;
  /** Dotted YAML path (snake_case keys). */
  readonly yaml: string;
  readonly kind: Kind;
  readonly def: T;
  readonly help: string;
  readonly secret?: boolean;
  readonly values?: readonly string[];
  /** Per-tenant limit: may be overridden in the runtime config's `overrides.<tenant>`. */
  readonly limit?: boolean;
}

const str = <K extends string>(flag: K, yaml: string, def: string, help: string, extra: Partial<Def> = {}) =>
  ({ flag, yaml, kind: 'string', def, help, ...extra }) as Def<K, string>;
const int = <K extends string>(flag: K, yaml: string, def: number, help: string, extra: Partial<Def> = {}) =>
  ({ flag, yaml, kind: 'int', def, help, ...extra }) as Def<K, number>;
const float = <K extends string>(flag: K, yaml: string, def: number, help: string, extra: Partial<Def> = {}) =>
  ({ flag, yaml, kind: 'float', def, help, ...extra }) as Def<K, number>;
const bool = <K extends string>(flag: K, yaml: string, def: boolean, help: string, extra: Partial<Def> = {}) =>
  ({ flag, yaml, kind: 'bool', def, help, ...extra }) as Def<K, boolean>;
/** Durations are held in milliseconds. */
const dur = <K extends string>(flag: K, yaml: string, def: number, help: string, extra: Partial<Def> = {}) =>
  ({ flag, yaml, kind: 'duration', def, help, ...extra }) as Def<K, number>;

const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const CONFIG_DEFS = [
  str('target', 'target', 'all', 'Component to run: all (every component in one process), distributor, ingester or querier.', {
    values: ['all', 'distributor', 'ingester', 'querier'],
  }),
  bool('auth.multitenancy-enabled', 'multitenancy_enabled', true, 'When false, every request belongs to -auth.no-auth-tenant.'),
  str('auth.no-auth-tenant', 'no_auth_tenant', 'anonymous', 'Tenant used when multi-tenancy is disabled.'),
  bool(
    'auth.tenant-from-basic-auth',
    'tenant_from_basic_auth',
    false,
    'Use the basic-auth user name as the tenant when a request has no X-Scope-OrgID header.',
  ),

  str('server.http-listen-address', 'server.http_listen_address', '', 'HTTP listen address (empty: all interfaces).'),
  int('server.http-listen-port', 'server.http_listen_port', 8080, 'HTTP listen port.'),
  str('server.grpc-listen-address', 'server.grpc_listen_address', '', 'gRPC listen address (empty: all interfaces).'),
  int('server.grpc-listen-port', 'server.grpc_listen_port', 9095, 'gRPC listen port.'),
  dur('server.graceful-shutdown-timeout', 'server.graceful_shutdown_timeout', 30 * S, 'Time to finish in-flight requests on shutdown.'),
  str('log.level', 'server.log_level', 'info', 'Log level.', { values: ['debug', 'info', 'warn', 'error'] }),
  str('http.prometheus-http-prefix', 'api.prometheus_http_prefix', '/prometheus', 'Prefix of the Prometheus HTTP API.'),

  str('blocks-storage.backend', 'blocks_storage.backend', 'filesystem', 'Object storage backend.', {
    values: ['filesystem', 's3'],
  }),
  str('blocks-storage.filesystem.dir', 'blocks_storage.filesystem.dir', './data/bucket', 'Directory of the filesystem bucket.'),
  str('blocks-storage.s3.endpoint', 'blocks_storage.s3.endpoint', '', 'S3 endpoint (host:port).'),
  str('blocks-storage.s3.bucket-name', 'blocks_storage.s3.bucket_name', '', 'S3 bucket name.'),
  str('blocks-storage.s3.access-key-id', 'blocks_storage.s3.access_key_id', '', 'S3 access key ID.'),
  str('blocks-storage.s3.secret-access-key', 'blocks_storage.s3.secret_access_key', '', 'S3 secret access key.', {
    secret: true,
  }),
  bool('blocks-storage.s3.insecure', 'blocks_storage.s3.insecure', false, 'Use plain HTTP for S3.'),
  str('blocks-storage.s3.region', 'blocks_storage.s3.region', '', 'S3 region.'),
  str('blocks-storage.tsdb.dir', 'blocks_storage.tsdb.dir', './data/tsdb', 'Directory of the ingesters\' WAL, head and local blocks.'),
  dur('blocks-storage.tsdb.block-ranges-period', 'blocks_storage.tsdb.block_ranges_period', 2 * H, 'Range of the blocks the ingesters cut from their heads; blocks are aligned to it.'),
  dur('blocks-storage.tsdb.head-compaction-interval', 'blocks_storage.tsdb.head_compaction_interval', 1 * M, 'How often ingesters check whether a head can be cut into a block.'),
  dur('blocks-storage.tsdb.head-compaction-idle-timeout', 'blocks_storage.tsdb.head_compaction_idle_timeout', 1 * H, 'A head that received no samples for this long is cut into blocks whole (0 = never).'),
  dur('blocks-storage.tsdb.ship-interval', 'blocks_storage.tsdb.ship_interval', 1 * M, 'How often ingesters upload new blocks to object storage (0 = never).'),
  dur('blocks-storage.tsdb.retention-period', 'blocks_storage.tsdb.retention_period', 13 * H, 'How long ingesters keep shipped blocks on local disk.'),
  dur('blocks-storage.tsdb.close-idle-tsdb-timeout', 'blocks_storage.tsdb.close_idle_tsdb_timeout', 0, 'Close a tenant\'s TSDB (releasing its memory) once it is idle this long and everything is shipped (0 = never).'),
  dur('blocks-storage.bucket-store.sync-interval', 'blocks_storage.bucket_store.sync_interval', 15 * M, 'How often queriers look for new blocks in object storage.'),

  dur('distributor.remote-timeout', 'distributor.remote_timeout', 2 * S, 'Timeout of a push from a distributor to an ingester.'),
  int('ingester.client.grpc-max-recv-msg-size', 'ingester_client.grpc_client_config.max_recv_msg_size', 100 << 20, 'Largest gRPC message a client of the ingesters accepts.'),
  int('ingester.client.grpc-max-send-msg-size', 'ingester_client.grpc_client_config.max_send_msg_size', 100 << 20, 'Largest gRPC message a client of the ingesters sends.'),
  int('server.grpc-max-recv-msg-size-bytes', 'server.grpc_server_max_recv_msg_size', 100 << 20, 'Largest gRPC message the server accepts.'),
  int('server.grpc-max-send-msg-size-bytes', 'server.grpc_server_max_send_msg_size', 100 << 20, 'Largest gRPC message the server sends.'),
  str('ingester.ring.store', 'ingester.ring.kvstore.store', 'inmemory', 'Where the ingester ring lives: inmemory (one process) or redis.', {
    values: ['inmemory', 'redis'],
  }),
  str('ingester.ring.redis.endpoint', 'ingester.ring.kvstore.redis.endpoint', '127.0.0.1:6379', 'Redis host:port of the ring.'),
  str('ingester.ring.prefix', 'ingester.ring.kvstore.prefix', 'collectors/', 'Key prefix of the ring in the KV store.'),
  str('ingester.ring.instance-id', 'ingester.ring.instance_id', '', 'This ingester\'s ID in the ring (default: the hostname).'),
  str('ingester.ring.instance-addr', 'ingester.ring.instance_addr', '127.0.0.1', 'Address other components reach this ingester\'s gRPC server at.'),
  int('ingester.ring.instance-port', 'ingester.ring.instance_port', 0, 'Port advertised in the ring (0: -server.grpc-listen-port).'),
  str('ingester.ring.zone', 'ingester.ring.instance_availability_zone', '', 'Availability zone of this ingester.'),
  int('ingester.ring.num-tokens', 'ingester.ring.num_tokens', 128, 'Tokens each ingester owns in the ring.'),
  dur('ingester.ring.heartbeat-period', 'ingester.ring.heartbeat_period', 15 * S, 'How often an ingester refreshes its heartbeat.'),
  dur('ingester.ring.heartbeat-timeout', 'ingester.ring.heartbeat_timeout', 1 * M, 'An ingester without a heartbeat for this long is unhealthy.'),
  int('ingester.ring.replication-factor', 'ingester.ring.replication_factor', 3, 'Ingesters each series is written to (with -target=all and the in-memory ring: 1).'),
  bool('ingester.ring.zone-awareness-enabled', 'ingester.ring.zone_awareness_enabled', false, 'Replicate across distinct zones.'),
  int('distributor.max-recv-msg-size', 'distributor.max_recv_msg_size', 100 << 20, 'Largest accepted push request (decompressed bytes).'),
  float('distributor.ingestion-rate-limit', 'limits.ingestion_rate', 10000, 'Per-tenant ingestion rate limit in samples per second.', {
    limit: true,
  }),
  int('distributor.ingestion-burst-size', 'limits.ingestion_burst_size', 200000, 'Per-tenant allowed ingestion burst size (samples).', {
    limit: true,
  }),
  int('validation.max-label-names-per-series', 'limits.max_label_names_per_series', 30, 'Maximum number of labels per series.', {
    limit: true,
  }),
  int('validation.max-length-label-name', 'limits.max_label_name_length', 1024, 'Maximum length of a label name (bytes).', {
    limit: true,
  }),
  int('validation.max-length-label-value', 'limits.max_label_value_length', 2048, 'Maximum length of a label value (bytes).', {
    limit: true,
  }),
  dur('validation.create-grace-period', 'limits.creation_grace_period', 10 * M, 'How far in the future a sample may be.', {
    limit: true,
  }),
  bool('distributor.ha-tracker.enable', 'distributor.ha_tracker.enable_ha_tracker', false, 'Enable the distributors\' HA tracker so that it can accept samples from Prometheus HA replicas gracefully (requires labels).'),
  dur('distributor.ha-tracker.update-timeout', 'distributor.ha_tracker.ha_tracker_update_timeout', 15 * S, 'Update the timestamp in the KV store for a given cluster/replica only after this amount of time has passed since the current stored timestamp.'),
  dur('distributor.ha-tracker.update-timeout-jitter-max', 'distributor.ha_tracker.ha_tracker_update_timeout_jitter_max', 5 * S, 'Maximum jitter applied to the update timeout, in order to spread the HA heartbeats over time.'),
  dur('distributor.ha-tracker.failover-timeout', 'distributor.ha_tracker.ha_tracker_failover_timeout', 30 * S, 'If we don\'t receive any samples from the accepted replica for a cluster in this amount of time we will failover to the next replica we receive a sample from. This value must be greater than the update timeout.'),
  bool('distributor.ha-tracker.enable-for-all-users', 'limits.accept_ha_samples', false, 'Flag to enable, for all tenants, handling of samples with external labels identifying replicas in an HA Prometheus setup (per tenant: accept_ha_samples).', {
    limit: true,
  }),
  str('distributor.ha-tracker.cluster', 'limits.ha_cluster_label', 'cluster', 'Prometheus label to look for in samples to identify a Prometheus HA cluster.', {
    limit: true,
  }),
  str('distributor.ha-tracker.replica', 'limits.ha_replica_label', '__replica__', 'Prometheus label to look for in samples to identify a Prometheus HA replica.', {
    limit: true,
  }),
  int('distributor.ha-tracker.max-clusters', 'limits.ha_max_clusters', 100, 'Maximum number of clusters that the HA tracker will keep track of for a single tenant (0 = unlimited).', {
    limit: true,
  }),
  int('ingester.max-global-series-per-user', 'limits.max_global_series_per_user', 150000, 'Maximum in-memory series per tenant (0 = unlimited).', {
    limit: true,
  }),
  int('ingester.max-global-series-per-metric', 'limits.max_global_series_per_metric', 0, 'Maximum in-memory series per metric name (0 = unlimited).', {
    limit: true,
  }),
  int('validation.max-metadata-length', 'limits.max_metadata_length', 1024, 'Maximum length of a metric metadata\'s metric name and unit (bytes); longer help texts are truncated to it.', {
    limit: true,
  }),
  bool('validation.enforce-metadata-metric-name', 'limits.enforce_metadata_metric_name', true, 'Reject metric metadata without a metric name.', {
    limit: true,
  }),
  int('ingester.max-global-metadata-per-user', 'limits.max_global_metadata_per_user', 0, 'Maximum number of metrics with metadata an ingester keeps per tenant (0 = unlimited).', {
    limit: true,
  }),
  int('ingester.max-global-metadata-per-metric', 'limits.max_global_metadata_per_metric', 0, 'Maximum metadata entries (distinct type, help and unit) per metric that an ingester keeps per tenant (0 = unlimited).', {
    limit: true,
  }),
  dur('ingester.metadata-retain-period', 'ingester.metadata_retain_period', 10 * M, 'How long an ingester keeps metric metadata that was not sent again.'),

  int('querier.max-samples', 'querier.max_samples', 50_000_000, 'Maximum samples a single query may load into memory.'),
  dur('querier.timeout', 'querier.timeout', 2 * M, 'Query timeout.'),
  dur('querier.lookback-delta', 'querier.lookback_delta', 5 * M, 'PromQL lookback delta.'),
  dur('querier.max-query-length', 'limits.max_query_length', 0, 'Longest time range a range query may cover (0 = unlimited).', {
    limit: true,
  }),
  dur('querier.query-ingesters-within', 'querier.query_ingesters_within', 13 * H, 'Only ask ingesters for data newer than this (0 = always).'),
  dur('querier.query-store-after', 'querier.query_store_after', 12 * H, 'Only read object storage for data older than this (0 = always).'),

  str('runtime-config.file', 'runtime_config.file', '', 'YAML file with per-tenant overrides, reloaded periodically.'),
  dur('runtime-config.reload-period', 'runtime_config.period', 10 * S, 'How often the runtime config is reloaded.'),
] as const;

type Defs = (typeof CONFIG_DEFS)[number];
export type FlagName = Defs['flag'];
export type Config = { -readonly [D in Defs as D['flag']]: D extends Def<string, infer T> ? T : never };

export const DURATION_UNITS = { S, M, H };
