/**
 * `rampflag/server`: a flagd-compatible server. Serves flags to in-process providers over flagd's
 * sync protocol (gRPC) and SSE, evaluates them through flagd's evaluation API and OFREP, and takes
 * updates through an admin API. Needs `@grpc/grpc-js`.
 * @packageDocumentation
 */
export { FlagServer } from './flag-server.js';
export type { BoundPorts, FlagServerOptions, FlagServerSource, PortOption } from './flag-server.js';
export { mergePatch } from './admin-api.js';
