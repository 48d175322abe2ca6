export { Ingester } from './ingester';
export type { IngesterConfig, IngesterDeps } from './ingester';
export { IngesterErrors } from './errors';
export { addIngesterService, startIngesterGrpcServer } from './grpc/server';
export type { IngesterServiceImpl, IngesterServiceOptions, IngesterGrpcServerOptions, IngesterGrpcServer, UserStats } from './grpc/server';
export { IngesterGrpcClient } from './grpc/client';
export type { IngesterGrpcClientOptions } from './grpc/client';
export { IngesterClientPool } from './grpc/client-pool';
export { IngesterGrpcError } from './grpc/errors';
