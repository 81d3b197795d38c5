/**
 * `rampflag/grpc`: flagd's gRPC sync stream as a flag source. Needs `@grpc/grpc-js`.
 * `FlagdProvider` loads it by itself for `resolverType: 'in-process'` without a flag file.
 * @packageDocumentation
 */
export { GrpcSyncSource } from './sync-source.js';
export { fetchAllFlags } from './fetch-all.js';
export type { GrpcSyncOptions } from './sync-source.js';
export { backoffDelay } from '../sources/backoff.js';
