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
export { parseRoles, RolesFileError, MIN_TOKEN_LENGTH } from './roles.js';
export type { HashedGrant, Role, TokenGrant } from './roles.js';
export { parseAlertPayload, MAX_ALERTS } from './alerts.js';
export type { Alert, AlertAction, AlertPayload, AlertSettings } from './alerts.js';
export type { Delivery } from './subscribers.js';
