export { Ingester } from './ingester';
export type { IngesterConfig, IngesterDeps } from './ingester';
export { IngesterErrors } from './errors';
