/**
 * `rampflag/server`: serve flags to in-process providers over flagd's sync protocol (gRPC) and SSE.
 * Needs `@grpc/grpc-js`.
 * @packageDocumentation
 */
export { FlagServer } from './flag-server.js';
export type { FlagServerOptions } from './flag-server.js';
