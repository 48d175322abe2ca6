export { Strata } from './app';
export { IngesterQuerier } from './ingester-querier';
export { BUILD_INFO, VERSION } from './version';
