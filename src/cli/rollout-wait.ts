import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryOf, type AdminClient, type DeliveryView } from './rollout-admin.js';
import { describeDelivery } from './rollout-output.js';
import type { RolloutContext } from './rollout-options.js';

/** How `--wait` ended: every stream sent the change (`complete`) or not, after `ms`. */
export interface WaitOutcome {
  readonly complete: boolean;
  readonly ms: number;
  readonly delivery: DeliveryView;
}

/** The longest long poll the server accepts (`wait` of `GET /admin/delivery`). */
const MAX_POLL_MS = 30_000;
/** How often a terminal's progress line is redrawn. */
const REDRAW_MS = 1_000;

/**
 * Waits until every open sync stream was sent configuration `version` (undefined: the version the
 * server serves now), long-polling `GET /admin/delivery`, for at most `timeoutMs` counted from
 * `started` (a `performance.now()`). On a terminal the progress is redrawn in place; the last line
 * says how many streams were sent the change, by transport; a wait that ends with some pending
 * says so on stderr too. With `--json` nothing is printed: the caller prints the outcome.
 */
export async function waitForDelivery(
  ctx: RolloutContext,
  admin: AdminClient,
  version: number | undefined,
  options: { readonly started: number; readonly timeoutMs: number; readonly first?: DeliveryView },
): Promise<WaitOutcome> {
  const { io, values } = ctx;
  const human = values.json !== true;
  const poll = async (at: number, waitMs: number) =>
    deliveryOf(
      await admin.request('GET', `/admin/delivery?version=${at}&wait=${Math.ceil(waitMs)}`, {
        role: 'read',
        timeoutMs: Math.ceil(waitMs) + 10_000,
        signal: io.signal,
      }),
    );
  let delivery = options.first ?? (await poll(version ?? 0, 0));
  const target = version ?? delivery.current;
  if (delivery.version !== target) delivery = await poll(target, 0);
  const ms = () => performance.now() - options.started;
  let drawn = false;
  const draw = (text: string) => {
    io.stdout(`${drawn ? '\x1b[1A\x1b[J' : ''}${text}`);
    drawn = io.tty === true;
  };
  while (delivery.pending > 0 && !io.signal.aborted) {
    const left = options.timeoutMs - ms();
    if (left <= 0) break;
    if (human && io.tty === true) draw(describeDelivery(delivery, ms(), false));
    const slice = Math.max(1, Math.min(left, MAX_POLL_MS, io.tty === true ? REDRAW_MS : left));
    const asked = performance.now();
    try {
      delivery = await poll(target, slice);
    } catch (error) {
      if (io.signal.aborted) break;
      throw error;
    }
    // a server that answers before the wait is over, with streams still pending, is not spun on
    const early = slice - (performance.now() - asked);
    if (delivery.pending > 0 && early > slice / 2)
      await sleep(Math.min(250, early), undefined, { signal: io.signal }).catch(() => undefined);
  }
  const outcome = { complete: delivery.pending === 0, ms: Math.round(ms()), delivery };
  if (human) draw(describeDelivery(delivery, outcome.ms, true));
  if (!outcome.complete)
    io.stderr(
      `rampflag rollout ${ctx.command}: ${delivery.pending} of ${delivery.streams} sync streams were not sent version ${target} within ${outcome.ms} ms`,
    );
  return outcome;
}
