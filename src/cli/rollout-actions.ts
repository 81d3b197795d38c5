import { isObject } from '../evaluator/json-path.js';
import { flagIn } from '../rollout/flag-doc.js';
import { readRollout } from '../rollout/state.js';
import { safeVariantOf } from '../rollout/transitions.js';
import { fileWriter } from '../rollout/writers.js';
import {
  AdminApiError,
  adminClient,
  flagActionOf,
  freezeOf,
  tokenFrom,
  type AdminClient,
} from './rollout-admin.js';
import { freezeView, type FreezeView } from '../rollout/freeze.js';
import { describeFlagAction, describeFlagStatus, describeFreezeView } from './rollout-output.js';
import {
  durationOption,
  refuseOptions,
  STEP_EXIT,
  UsageError,
  type RolloutContext,
} from './rollout-options.js';
import { waitForDelivery } from './rollout-wait.js';

type Json = Record<string, unknown>;

/** What can be done to a flag named on the command line, through the server. */
export type ByNameAction = 'kill' | 'rollback' | 'pause' | 'resume';

/** The default of `--timeout`. */
const DEFAULT_WAIT_MS = 30_000;

/** `--timeout`, which only `--wait` reads. */
export function waitTimeoutOf(ctx: RolloutContext): number {
  const timeout = durationOption(ctx.values, 'timeout');
  if (timeout !== undefined && ctx.values.wait !== true)
    throw new UsageError('--timeout goes with --wait');
  return timeout ?? DEFAULT_WAIT_MS;
}

/** `?source=<name>` for `--source`, or ''. */
const sourceQuery = (ctx: RolloutContext) =>
  ctx.values.source === undefined ? '' : `?source=${encodeURIComponent(ctx.values.source)}`;

/** Flag `key` as the server serves it now, or undefined when it cannot be read. */
async function flagNow(admin: AdminClient, key: string, ctx: RolloutContext) {
  const doc = await admin
    .request('GET', `/admin/flags${sourceQuery(ctx)}`, { role: 'read' })
    .catch(() => undefined);
  return doc === undefined ? undefined : flagIn(doc, key);
}

/**
 * `rampflag rollout kill|rollback|pause|resume <flag> --admin <url>`: the server acts on the flag
 * (and audits it under the token's name); prints what changed, or the answer with `--json`. With
 * `--wait`, then waits until every sync stream was sent the change: exit 13 when some were not.
 */
export async function flagActionByName(
  ctx: RolloutContext,
  action: ByNameAction,
  key: string,
): Promise<number> {
  const { values, io, print } = ctx;
  if (values.admin === undefined)
    throw new UsageError(
      `without --plan, "${action} <flag>" needs --admin <url>: the server acts, and audits it`,
    );
  refuseOptions(
    values,
    ['flags', 'audit', 'actor'],
    'does not go with a flag named without --plan: the server audits, as the token',
  );
  if (action === 'pause' || action === 'resume')
    refuseOptions(values, ['safe-variant'], `is for kill and rollback, not ${action}`);
  const timeoutMs = waitTimeoutOf(ctx);
  const admin = adminClient(values.admin, tokenFrom(ctx.env));
  const before = await flagNow(admin, key, ctx);
  const started = performance.now();
  const body = {
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values['safe-variant'] === undefined ? {} : { safeVariant: values['safe-variant'] }),
  };
  let answer;
  try {
    answer = flagActionOf(
      await admin.request('POST', `/admin/flags/${encodeURIComponent(key)}/${action}`, {
        role: 'rollout',
        body,
      }),
    );
  } catch (error) {
    const e = error as AdminApiError;
    if (e.status === 409 && /safe variant/.test(e.message) && values['safe-variant'] === undefined)
      throw new AdminApiError(`${e.message} (pass --safe-variant <variant>)`, 409, { cause: e });
    throw error;
  }
  if (answer.unaudited !== undefined)
    io.stderr(`rampflag rollout ${action}: done, but not audited: ${answer.unaudited}`);
  if (values.wait !== true) {
    print(describeFlagAction(answer, before), answer);
    return 0;
  }
  if (values.json !== true) io.stdout(describeFlagAction(answer, before));
  const wait = await waitForDelivery(ctx, admin, answer.version, {
    started,
    timeoutMs,
    ...(answer.delivery === undefined ? {} : { first: answer.delivery }),
  });
  if (values.json === true) io.stdout(JSON.stringify({ ...answer, wait }));
  return wait.complete ? 0 : STEP_EXIT.notSent;
}

/**
 * `rampflag rollout status [<flag>]` without a plan: the flag's rollout metadata, what it serves and
 * its safe variant, and the freeze; from the server (`--admin`) or the flag file (`--flags`).
 */
export async function statusByName(ctx: RolloutContext, key: string | undefined): Promise<number> {
  const { values, print } = ctx;
  if ((values.flags === undefined) === (values.admin === undefined))
    throw new UsageError('status needs --plan, or --flags <file> or --admin <url>');
  let doc: Json;
  let freeze: FreezeView;
  if (values.admin !== undefined) {
    const admin = adminClient(values.admin, tokenFrom(ctx.env));
    freeze = freezeOf(await admin.request('GET', '/admin/freeze', { role: 'read' }));
    doc =
      key === undefined
        ? {}
        : await admin.request('GET', `/admin/flags${sourceQuery(ctx)}`, { role: 'read' });
  } else {
    const parsed = JSON.parse((await fileWriter(values.flags as string).read()).configuration);
    doc = isObject(parsed) ? parsed : {};
    freeze = freezeView(doc, Date.now());
  }
  const flag = key === undefined ? undefined : flagIn(doc, key);
  if (key !== undefined && flag === undefined)
    throw new Error(`no flag "${key}" in ${values.admin ?? values.flags}`);
  const lines = [
    ...(key === undefined || flag === undefined ? [] : [describeFlagStatus(key, flag)]),
    describeFreezeView(freeze),
  ];
  print(lines.join('\n'), {
    ...(key === undefined || flag === undefined ? {} : statusJson(key, flag)),
    freeze,
  });
  return 0;
}

/** A flag's state for `status --json`: its rollout as the plan-based status shows it. */
function statusJson(key: string, flag: Json): Json {
  return {
    flag: key,
    rollout: readRollout(flag) ?? null,
    safeVariant: safeVariantOf(flag) ?? null,
    defaultVariant: flag['defaultVariant'] ?? null,
    targeting: flag['targeting'] !== undefined,
  };
}
