export { Strata } from './app';
export { BUILD_INFO, VERSION } from './version';
