import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../rollout/audit.js';
import { parseDuration } from '../rollout/duration.js';
import { parseRoles, type HashedGrant, type TokenGrant } from '../server/roles.js';
import { FlagServer, type FlagServerOptions } from '../server/flag-server.js';
import type { CliIo } from './io.js';
import { refuseFlagdOnlyOptions, serveSources } from './serve-sources.js';

const USAGE = `usage: rampflag serve [<flags.json|flags.yaml>...] [--uri <uri>]... [--sources <json>] [options]
Serves flags from files, URLs and sync servers, merged in order (a later source wins a flag
key), as flagd does. Operands are flag files (JSON or YAML), watched.
  -f, --uri <uri>            a source, by flagd's prefixes (repeatable):
                               file:flags.yaml          a flag file, as an operand
                               https://host/flags.json  polled with If-None-Match (http:// too)
                               grpc://host:8015         flagd's sync stream, from flagd or another
                                                        rampflag serve: a fan-out proxy (grpcs:// for TLS)
  -s, --sources <json>       flagd's source list, after the --uri ones: [{"uri": …, "provider":
                             "file" | "http" | "grpc", …}] with http's authHeader, bearerToken and
                             interval (seconds), grpc's tls, certPath, selector and providerID;
                             or RAMPFLAG_SOURCES, which keeps credentials out of argv
  --poll-interval <dur>      between polls of an http(s) source (default 5s, flagd's interval)
  --host <addr>              interface to bind (default 127.0.0.1; 0.0.0.0 for every host)
  --sync-port <n>            gRPC flagd.sync.v1 (default 8015)
  --http-port <n>            evaluation API (Connect JSON) and SSE sync /sync/sse (default 8013)
  --management-port <n>      /healthz, /readyz, /metrics (default 8014)
  --ofrep-port <n>           OFREP (default 8016)
  --sync-socket-path <path>  also serve gRPC sync on a unix socket
  -d, --socket-path <path>   also serve the evaluation port (gRPC, Connect) on a unix socket
  -C, --cors-origin <origin> origins whose pages may call the evaluation port (repeatable or
                             comma-separated; * for any, the default, as flagd)
  --server-cert-path <pem>   TLS certificate (with --server-key-path) for every listener
  --server-key-path <pem>    TLS private key
  -X, --context-value k=v    static context: sent to in-process providers, and added to every
                             evaluation the server makes (repeatable; k=v,k2=v2 as flagd)
  -H, --context-from-header header=key
                             copy a request header into the evaluation context under key
                             (repeatable); a header wins over -X, which wins over the request
  --disable-sync-metadata    answer the deprecated GetMetadata with UNIMPLEMENTED
  --tokens-file <path>       tokens with roles (read, rollout, admin, alerts) for the management
                             API; or RAMPFLAG_TOKENS_FILE, or the file's text in RAMPFLAG_TOKENS
  --audit-log <path>         where every change is recorded (default rampflag-audit.jsonl
                             beside the first flag file; none without a flag file)
  --alert-flag-label <name>  the alert label naming the flag to roll back (default flag_key; repeatable)
  --alert-freeze-label <name>  the alert label that freezes every rollout (default rampflag_freeze)
  --alert-freeze-for <dur>   how long an alert's freeze lasts (default: until unfrozen)
The management API (/admin/* on the management port) edits the files, kills and rolls back
flags, freezes rollouts and takes Alertmanager's webhook at /admin/alerts. Tokens never go in
argv: RAMPFLAG_ADMIN_TOKEN is one token with every role but alerts. Without any token, only
loopback callers may use it, and the webhook is off.
RAMPFLAG_SOURCE_TOKEN is a bearer token for every http(s) source without its own authHeader
or bearerToken. Sources from URLs and sync servers are read-only: the admin API refuses writes.
A selector "source=<name>" (or the bare name) picks one source's flags. The name is flagd's: a
file as given (without file:), a URL as given, a sync server's host:port (without grpc://), a
--sources uri as given.
Kubernetes, GCS, Azure Blob and S3 sources are flagd's alone: serve a file or URL instead.`;

const OPTIONS = {
  uri: { type: 'string', short: 'f', multiple: true },
  sources: { type: 'string', short: 's' },
  'poll-interval': { type: 'string' },
  host: { type: 'string' },
  'sync-port': { type: 'string' },
  'http-port': { type: 'string' },
  'management-port': { type: 'string' },
  'ofrep-port': { type: 'string' },
  'sync-socket-path': { type: 'string' },
  'socket-path': { type: 'string', short: 'd' },
  'server-cert-path': { type: 'string' },
  'server-key-path': { type: 'string' },
  'context-value': { type: 'string', short: 'X', multiple: true },
  'context-from-header': { type: 'string', short: 'H', multiple: true },
  'cors-origin': { type: 'string', short: 'C', multiple: true },
  'disable-sync-metadata': { type: 'boolean' },
  'tokens-file': { type: 'string' },
  'audit-log': { type: 'string' },
  'alert-flag-label': { type: 'string', multiple: true },
  'alert-freeze-label': { type: 'string' },
  'alert-freeze-for': { type: 'string' },
} as const;

/** The option that sets each listener's port, for a message about it. */
const LISTENER_OPTIONS: Readonly<Record<string, string>> = {
  sync: 'sync-port',
  evaluation: 'http-port',
  management: 'management-port',
  ofrep: 'ofrep-port',
};

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new RangeError(`--${name}: "${value}" is not a port`);
  return n;
}

/** One argument's fields, split on commas as CSV does (`"a=1,2",b=3` is two fields). */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' && quoted && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"' && (quoted || field === '')) quoted = !quoted;
    else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new RangeError(`"${text}" has an unclosed quote`);
  fields.push(field);
  return fields;
}

/**
 * `key=value` arguments as flagd's string-to-string options read them (pflag's stringToString):
 * repeatable, and one argument may hold several pairs separated by commas (`-X a=1,b=2`).
 * Throws a RangeError naming the option and the pair that is not key=value.
 */
function keyValues(
  option: string,
  args: readonly string[] | undefined,
): Record<string, string> | undefined {
  if (args === undefined || args.length === 0) return undefined;
  const entries = args.flatMap((arg) => {
    let fields: string[];
    try {
      fields = csvFields(arg);
    } catch (error) {
      throw new RangeError(`--${option}: ${(error as Error).message}`);
    }
    return fields.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new RangeError(`--${option}: "${pair}" is not key=value`);
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    });
  });
  // Object.fromEntries defines each key, so `__proto__` stays an own property
  return Object.fromEntries(entries);
}

/** TLS from the two PEM paths, which come together or not at all. */
function tlsFrom(cert: string | undefined, key: string | undefined): FlagServerOptions['tls'] {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined)
    throw new RangeError('--server-cert-path and --server-key-path go together');
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

/** The server's options from argv; throws a RangeError naming the bad argument. */
export function serveOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): FlagServerOptions & { names: string[]; warnings: string[]; tokensFile?: string } {
  refuseFlagdOnlyOptions(args);
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: OPTIONS,
  });
  const { sources, firstFile, warnings } = serveSources(
    {
      files: positionals,
      uris: values.uri ?? [],
      sources: values.sources,
      pollInterval: values['poll-interval'],
    },
    env,
  );
  const syncContext = keyValues('context-value', values['context-value']);
  const fromHeaders = keyValues('context-from-header', values['context-from-header']);
  const corsOrigins = values['cors-origin']?.flatMap((list) =>
    list.split(',').map((origin) => origin.trim()),
  );
  const tls = tlsFrom(values['server-cert-path'], values['server-key-path']);
  const token = env['RAMPFLAG_ADMIN_TOKEN']; // not an argument: argv is visible to every user
  const tokensFile = values['tokens-file'] ?? env['RAMPFLAG_TOKENS_FILE'];
  const tokens = tokensFrom(tokensFile, env['RAMPFLAG_TOKENS']);
  const freezeFor = values['alert-freeze-for'];
  const freezeForMs = freezeFor === undefined ? undefined : parseDuration(freezeFor);
  if (freezeFor !== undefined && (freezeForMs === undefined || freezeForMs <= 0))
    throw new RangeError(`--alert-freeze-for: "${freezeFor}" is not a duration such as 2h`);
  const auditPath =
    values['audit-log'] ??
    (firstFile === undefined ? undefined : join(dirname(firstFile), 'rampflag-audit.jsonl'));
  return {
    names: sources.map((s) => s.name),
    warnings,
    sources,
    host: values.host ?? '127.0.0.1',
    syncPort: port(values['sync-port'], 8015, 'sync-port'),
    httpPort: port(values['http-port'], 8013, 'http-port'),
    managementPort: port(values['management-port'], 8014, 'management-port'),
    ofrepPort: port(values['ofrep-port'], 8016, 'ofrep-port'),
    ...(values['sync-socket-path'] === undefined
      ? {}
      : { syncSocketPath: values['sync-socket-path'] }),
    ...(values['socket-path'] === undefined ? {} : { socketPath: values['socket-path'] }),
    ...(tls === undefined ? {} : { tls }),
    ...(syncContext === undefined ? {} : { syncContext }),
    ...(fromHeaders === undefined ? {} : { contextFromHeaders: fromHeaders }),
    ...(corsOrigins === undefined ? {} : { corsOrigins }),
    disableSyncMetadata: values['disable-sync-metadata'] ?? false,
    ...(token === undefined || token === '' ? {} : { adminToken: token }),
    ...(tokens === undefined ? {} : { tokens }),
    ...(tokensFile ? { tokensFile } : {}),
    // beside the flags it audits, where `rampflag rollout --flags <file>` writes too
    ...(auditPath === undefined ? {} : { audit: new AuditLog(auditPath) }),
    alerts: {
      ...(values['alert-flag-label'] ? { flagLabels: values['alert-flag-label'] } : {}),
      ...(values['alert-freeze-label'] ? { freezeLabel: values['alert-freeze-label'] } : {}),
      ...(freezeForMs === undefined ? {} : { freezeForMs }),
    },
  };
}

/** The role tokens from a file, or from the file's text in the environment; throws naming the origin. */
function tokensFrom(
  file: string | undefined,
  inline: string | undefined,
): (TokenGrant | HashedGrant)[] | undefined {
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new RangeError(`--tokens-file: cannot read ${file}: ${(error as Error).message}`);
    }
    return parseRoles(text, file);
  }
  if (inline !== undefined && inline.trim() !== '') return parseRoles(inline, 'RAMPFLAG_TOKENS');
  return undefined;
}

/**
 * `rampflag serve [<file>...] [--uri <uri>]... [--sources <json>]`: serves flag files, URLs and sync
 * servers until the signal aborts, then ends every stream (so clients go STALE at once and
 * reconnect) and returns 0. A bad argument returns 2; a source or listener that cannot start, 1.
 */
export async function serve(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  let options: ReturnType<typeof serveOptions>;
  try {
    options = serveOptions(args, process.env);
  } catch (error) {
    io.stderr(`rampflag serve: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const logger = { error: io.stderr, warn: io.stderr, info: io.stdout, debug: () => undefined };
  for (const warning of options.warnings) io.stderr(`rampflag serve: warning: ${warning}`);
  if (options.tokensFile !== undefined && (statSync(options.tokensFile).mode & 0o077) !== 0)
    io.stderr(
      `rampflag serve: warning: ${options.tokensFile} holds tokens and other users can read it (chmod 600 ${options.tokensFile})`,
    );
  const server = new FlagServer({ ...options, logger });
  try {
    const ports = await server.start();
    const scheme = options.tls ? 'https' : 'http';
    const bound = options.host ?? '127.0.0.1';
    const host = bound.includes(':') ? `[${bound}]` : bound;
    const at = (p: number | undefined) => `${scheme}://${host}:${p}`;
    io.stdout(
      `rampflag serving ${options.names.join(', ')}: sync (gRPC) ${host}:${ports.syncPort}, evaluation API and SSE ${at(ports.httpPort)}, management ${at(ports.managementPort)}, OFREP ${at(ports.ofrepPort)}${options.syncSocketPath ? `; sync socket ${options.syncSocketPath}` : ''}${options.socketPath ? `; evaluation socket ${options.socketPath}` : ''}; ${options.audit ? `audit log ${options.audit.path}` : 'no audit log (--audit-log)'}; ${(options.tokens?.length ?? 0) + (options.adminToken ? 1 : 0)} management token(s)`,
    );
  } catch (error) {
    const {
      code,
      listener,
      port: taken,
    } = error as { code?: string; listener?: string; port?: number | string };
    const option = listener === undefined ? undefined : LISTENER_OPTIONS[listener];
    io.stderr(
      code === 'EADDRINUSE' && typeof taken === 'string'
        ? `rampflag serve: socket ${taken} is in use (--socket-path): a running server holds it; stop it or pick another path`
        : code === 'EADDRINUSE' && option !== undefined
          ? `rampflag serve: port ${taken} is in use (--${option}): another process holds it; pick another with --${option}, or 0 for a free one`
          : `rampflag serve: ${(error as Error).message}`,
    );
    await server.stop().catch(() => undefined);
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.stop();
  io.stdout('rampflag stopped: streams closed');
  return 0;
}
