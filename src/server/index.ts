/**
 * `rampflag/server`: a flagd-compatible server. Serves flags to in-process providers over flagd's
 * sync protocol (gRPC) and SSE, evaluates them through flagd's evaluation API and OFREP, and takes
 * updates through an admin API. Installing `rampflag` brings everything it needs.
 * @packageDocumentation
 */
export { DEFAULT_SERVER_LIMITS, FlagServer } from './flag-server.js';
export type {
  BoundPorts,
  FlagServerOptions,
  FlagServerSource,
  PortOption,
  ServerLimits,
} from './flag-server.js';
export { mergePatch } from './admin-api.js';
