import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { EvaluationContext } from '@openfeature/core';
import { isObject } from '../evaluator/json-path.js';
import type { Replica } from './verify-replicas.js';

/** The outcome of a subject that gets no variant: the flag is missing, disabled, or has no default. */
export const NO_VARIANT = '(none)';

/** A replica that did not answer, or not as its protocol does. Recognise it by `name`. */
export class ReplicaUnreachableError extends Error {
  override readonly name = 'ReplicaUnreachableError';
}

/** Asks one replica for one subject's variant of the flag: a variant, {@link NO_VARIANT} or `(error CODE)`. */
export type Ask = (context: EvaluationContext) => Promise<string>;

/** Each request's time limit, the requests in flight at most, and the signal that stops them all. */
export interface AskOptions {
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
}

/** How to ask one replica, over kept-alive connections; `close` ends them. */
export interface Asker {
  readonly ask: Ask;
  close(): void;
}

/** Answers that say nothing about the flag: the replica refused, or is not there behind a proxy. */
const REFUSALS = new Set([401, 403, 407, 429, 502, 503, 504]);

/** The largest answer read (a `ResolveAll` of many flags is the large one). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

const EVALUATION = '/flagd.evaluation.v1.Service';
const OFREP = '/ofrep/v1/evaluate/flags';

type Answer = { readonly status: number; readonly json: Record<string, unknown> };

/** An answer's status and JSON object; anything that is not the protocol's JSON is unreachable. */
function answerOf(url: string, status: number, text: string): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (REFUSALS.has(status) || !isObject(json)) {
    const hint = status === 404 ? ' (not served here: is it the other --protocol?)' : '';
    throw new ReplicaUnreachableError(`${url} answered ${status}${hint}: ${text.slice(0, 200)}`);
  }
  return { status, json };
}

/**
 * POSTs `body` as JSON through `agent` (node:http: kept-alive connections, and much less work per
 * request than fetch); resolves with the status and the JSON answer, else rejects unreachable.
 */
function post(agent: Agent, url: string, body: unknown, options: AskOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) =>
      reject(
        error.name === 'ReplicaUnreachableError'
          ? error
          : new ReplicaUnreachableError(
              `${url}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
            ),
      );
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { 'Content-Type': 'application/json' };
    if (options.signal.aborted) return fail(new Error('stopped'));
    const req = send(target, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES)
          req.destroy(new Error(`an answer over ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        try {
          resolve(answerOf(url, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          fail(error as Error);
        }
      });
    });
    req.setTimeout(options.timeoutMs, () =>
      req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
    );
    req.on('error', fail);
    req.end(JSON.stringify(body));
  });
}

const field = (json: Record<string, unknown>, key: string) =>
  typeof json[key] === 'string' && json[key] !== '' ? (json[key] as string) : undefined;

/** The typed method that resolves the flag, from the value a `ResolveAll` answer gives it. */
function kindOf(answer: unknown): string | undefined {
  if (!isObject(answer)) return undefined;
  for (const [key, kind] of [
    ['boolValue', 'Boolean'],
    ['stringValue', 'String'],
    ['doubleValue', 'Float'],
    ['objectValue', 'Object'],
  ] as const)
    if (key in answer) return kind;
  return undefined;
}

/**
 * flagd's evaluation API: one `ResolveAll` with `probe` learns the flag's type, then each subject is
 * one typed call (`ResolveBoolean`, …), a small answer however many flags the replica serves.
 * When the probe's answer does not have the flag (disabled, or not there), every subject is one
 * `ResolveAll`. `not_found` is {@link NO_VARIANT}; another Connect error is `(error <code>)`.
 */
async function evaluationAsk(
  agent: Agent,
  replica: Replica,
  flag: string,
  probe: EvaluationContext,
  options: AskOptions,
): Promise<Ask> {
  const all = async (context: EvaluationContext) => {
    const url = `${replica.url}${EVALUATION}/ResolveAll`;
    const { json } = await post(agent, url, { context }, options);
    const flags = isObject(json['flags']) ? json['flags'] : {};
    const answer = Object.hasOwn(flags, flag) ? flags[flag] : undefined;
    return { answer, variant: (isObject(answer) && field(answer, 'variant')) || NO_VARIANT };
  };
  const kind = kindOf((await all(probe)).answer);
  if (kind === undefined) return async (context: EvaluationContext) => (await all(context)).variant;
  const url = `${replica.url}${EVALUATION}/Resolve${kind}`;
  return async (context: EvaluationContext) => {
    const { status, json } = await post(agent, url, { flagKey: flag, context }, options);
    if (status === 200) return field(json, 'variant') ?? NO_VARIANT;
    const code = field(json, 'code') ?? String(status);
    return code === 'not_found' ? NO_VARIANT : `(error ${code})`;
  };
}

/**
 * OFREP's single-flag evaluation, `POST /ofrep/v1/evaluate/flags/{key}` with `{"context": …}`: one
 * call per subject. A 404 (`FLAG_NOT_FOUND`) or an answer without a variant is {@link NO_VARIANT};
 * another error is `(error <errorCode>)`.
 */
function ofrepAsk(agent: Agent, replica: Replica, flag: string, options: AskOptions): Ask {
  const url = `${replica.url}${OFREP}/${encodeURIComponent(flag)}`;
  return async (context) => {
    const { status, json } = await post(agent, url, { context }, options);
    if (status === 200 || status === 404) return field(json, 'variant') ?? NO_VARIANT;
    return `(error ${field(json, 'errorCode') ?? status})`;
  };
}

/**
 * How to ask `replica` for subjects' variants of `flag` (for the evaluation API, after a probe
 * with the `probe` context), over at most `concurrency` kept-alive connections. Each call rejects with a {@link ReplicaUnreachableError} when the
 * replica does not answer within the time limit, refuses (401, 403, 429), is unavailable behind a
 * proxy (502, 503, 504), or answers something that is not its protocol's JSON.
 */
export async function askerFor(
  replica: Replica,
  flag: string,
  probe: EvaluationContext,
  options: AskOptions,
): Promise<Asker> {
  const settings = { keepAlive: true, maxSockets: options.concurrency };
  const agent = replica.url.startsWith('https:') ? new HttpsAgent(settings) : new Agent(settings);
  // one listener per replica, not one per request: stopping destroys the requests in flight
  const close = () => {
    options.signal.removeEventListener('abort', close);
    agent.destroy();
  };
  options.signal.addEventListener('abort', close);
  try {
    const ask =
      replica.protocol === 'ofrep'
        ? ofrepAsk(agent, replica, flag, options)
        : await evaluationAsk(agent, replica, flag, probe, options);
    return { ask, close };
  } catch (error) {
    close();
    throw error;
  }
}
