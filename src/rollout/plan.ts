import { parse as parseYaml } from 'yaml';
import { childPath, isObject } from '../evaluator/json-path.js';
import { parseDuration } from './duration.js';

/** One step of a plan: a ring stage (those rings get the treatment) or a share of everyone else. */
export type RolloutStep =
  | { readonly kind: 'ring'; readonly rings: readonly string[]; readonly holdMs: number }
  | { readonly kind: 'percent'; readonly percent: number; readonly holdMs: number };

/** What a guardrail measures: a ratio of bad events to all events, per cohort. */
export interface Guardrail {
  readonly name: string;
  /** `error-rate` and `slow-rate` read rampflag/otel's outcome metrics; `custom` reads `bad`/`total`. */
  readonly metric: 'error-rate' | 'slow-rate' | 'custom';
  /** How much worse than the control the treatment may be (absolute, in rate); harm beyond it rolls back. */
  readonly maxWorsening: number;
  /** The highest rate the treatment (and each ring cohort) may have on its own, if any. */
  readonly maxRate: number | undefined;
  /** For `slow-rate`: a request slower than this is a bad event (a histogram bucket bound). */
  readonly slowerThanMs: number | undefined;
  /** For `custom`: PromQL templates of the bad and total counts. */
  readonly bad: string | undefined;
  readonly total: string | undefined;
  /** Conversions and the like: a lower treatment rate is the harm. */
  readonly higherIsBetter: boolean;
  /** The mixture scale τ of the confidence sequence: the size of harm that matters. */
  readonly tau: number;
}

/** What to do when the cohorts are not split as the weights say (sample ratio mismatch). */
export type SrmAction = 'hold' | 'rollback' | 'warn';

/** A validated rollout plan, every default applied and every duration in milliseconds. */
export interface RolloutPlan {
  readonly flag: string;
  readonly treatment: string;
  /** The baseline cohort the treatment is compared with. */
  readonly control: string;
  /** Served by name on rollback and kill; the control unless set. */
  readonly safeVariant: string;
  readonly rings: { readonly attribute: string; readonly stages: readonly string[] } | undefined;
  readonly steps: readonly RolloutStep[];
  /** Events per cohort within a step before any decision on it. */
  readonly minSamples: number;
  readonly checkEveryMs: number;
  readonly stepTimeoutMs: number;
  readonly onTimeout: 'hold' | 'rollback';
  readonly alpha: number;
  readonly srm: { readonly threshold: number; readonly action: SrmAction };
  readonly guardrails: readonly Guardrail[];
  readonly metrics: { readonly prometheus: string | undefined };
}

/** One problem with a plan, at its path in the plan file. */
export interface PlanIssue {
  readonly path: string;
  readonly message: string;
}

/** A plan refused whole, with every problem found. Recognise it by `name`. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  readonly issues: readonly PlanIssue[];
  constructor(issues: readonly PlanIssue[]) {
    const shown = issues.slice(0, 8).map((issue) => `${issue.path || '(plan)'}: ${issue.message}`);
    const more = issues.length > 8 ? `; and ${issues.length - 8} more` : '';
    super(`invalid rollout plan: ${shown.join('; ')}${more}`);
    this.issues = issues;
  }
}

/**
 * The least τ a guardrail gets by default: one percentage point. τ only trades early against late
 * power (α holds for any τ); a τ far below the noise of the first few hundred requests would let a
 * gross regression run for thousands, so the default is the allowed worsening, but at least this.
 */
export const DEFAULT_TAU = 0.01;
const DEFAULT_GUARDRAILS = [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002 }];

/** Records a problem; returns nothing, so `return report(…) ?? []` reads as "report and skip". */
type Report = (path: string, message: string) => undefined;

/** Percentages are kept to 0.1 %: the flag's weights total 1000. */
const tenths = (percent: number) => Math.round(percent * 10) / 10;

function readSteps(raw: unknown, holdMs: number | undefined, report: Report): RolloutStep[] {
  const hold = holdMs ?? 0;
  if (Array.isArray(raw)) {
    return raw.flatMap((entry, index): RolloutStep[] => {
      const path = childPath('steps', index);
      const percent = isObject(entry) ? entry['percent'] : entry;
      // a step's own hold is checked here; the plan's, once, where it is read
      const stepHold = isObject(entry) && 'hold' in entry ? parseDuration(entry['hold']) : hold;
      if (typeof percent !== 'number' || !Number.isFinite(percent))
        return report(path, 'a step is a percentage or { percent, hold }') ?? [];
      if (stepHold === undefined || (stepHold <= 0 && stepHold !== hold))
        return report(childPath(path, 'hold'), 'a hold is a positive duration such as 10m') ?? [];
      return [{ kind: 'percent', percent, holdMs: stepHold }];
    });
  }
  const generated = (from: number, next: (p: number) => number): RolloutStep[] => {
    const steps: RolloutStep[] = [];
    for (let p = from; p < 100 && steps.length < 1000; p = next(p))
      steps.push({ kind: 'percent', percent: tenths(p), holdMs: hold });
    steps.push({ kind: 'percent', percent: 100, holdMs: hold });
    return steps;
  };
  if (isObject(raw) && isObject(raw['exponential'])) {
    const { from = 1, factor = 2 } = raw['exponential'] as { from?: unknown; factor?: unknown };
    if (typeof from !== 'number' || !(from > 0) || typeof factor !== 'number' || !(factor > 1))
      return report('steps.exponential', 'needs from > 0 and factor > 1') ?? [];
    return generated(from, (p) => p * factor);
  }
  if (isObject(raw) && isObject(raw['linear'])) {
    const { from, by } = raw['linear'] as { from?: unknown; by?: unknown };
    if (typeof from !== 'number' || !(from > 0) || typeof by !== 'number' || !(by > 0))
      return report('steps.linear', 'needs from > 0 and by > 0') ?? [];
    return generated(from, (p) => p + by);
  }
  report(
    'steps',
    'steps are a list of percentages, { exponential: { from, factor } } or { linear: { from, by } }',
  );
  return [];
}

function checkSteps(steps: readonly RolloutStep[], report: Report): void {
  let previous = 0;
  steps.forEach((step, index) => {
    if (step.kind !== 'percent') return;
    const path = childPath('steps', index);
    if (step.percent <= 0 || step.percent > 100) report(path, `${step.percent} is not in (0, 100]`);
    else if (tenths(step.percent) !== step.percent)
      report(path, `${step.percent} % is finer than 0.1 %`);
    else if (step.percent <= previous)
      report(path, `steps must increase strictly: ${step.percent} after ${previous}`);
    previous = step.percent;
  });
  const last = steps[steps.length - 1];
  if (last !== undefined && !(last.kind === 'percent' && last.percent === 100))
    report('steps', 'the last step must be 100');
}

function readGuardrail(raw: unknown, path: string, report: Report): Guardrail | undefined {
  if (!isObject(raw)) return report(path, 'a guardrail is an object');
  const name = raw['name'];
  if (typeof name !== 'string' || name === '')
    report(childPath(path, 'name'), 'a guardrail needs a name');
  const custom = raw['bad'] !== undefined || raw['total'] !== undefined;
  const metric = custom ? 'custom' : (raw['metric'] ?? 'error-rate');
  if (metric !== 'error-rate' && metric !== 'slow-rate' && metric !== 'custom')
    report(
      childPath(path, 'metric'),
      `"${String(metric)}" is not error-rate or slow-rate (or give bad and total)`,
    );
  const rate = (key: string): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      report(childPath(path, key), 'must be a rate between 0 and 1');
    return typeof value === 'number' ? value : undefined;
  };
  const higherIsBetter = raw['higherIsBetter'] === true;
  const maxWorsening = rate(higherIsBetter ? 'maxDecrease' : 'maxIncrease') ?? 0;
  const maxRate = rate('maxRate');
  const slowerThanMs = raw['slowerThanMs'];
  if (metric === 'slow-rate' && (typeof slowerThanMs !== 'number' || !(slowerThanMs > 0)))
    report(
      childPath(path, 'slowerThanMs'),
      'slow-rate needs slowerThanMs, a histogram bucket bound',
    );
  const template = (key: string) => {
    const value = raw[key];
    if (custom && (typeof value !== 'string' || value.trim() === ''))
      report(childPath(path, key), 'a custom guardrail needs bad and total PromQL');
    return typeof value === 'string' ? value : undefined;
  };
  const tau = raw['tau'] ?? Math.max(maxWorsening, DEFAULT_TAU);
  if (typeof tau !== 'number' || !(tau > 0)) report(childPath(path, 'tau'), 'must be positive');
  return {
    name: String(name),
    metric: metric as Guardrail['metric'],
    maxWorsening,
    maxRate,
    slowerThanMs: typeof slowerThanMs === 'number' ? slowerThanMs : undefined,
    bad: template('bad'),
    total: template('total'),
    higherIsBetter,
    tau: typeof tau === 'number' ? tau : DEFAULT_TAU,
  };
}

const PLAN_KEYS = new Set([
  'flag',
  'treatment',
  'control',
  'safeVariant',
  'rings',
  'steps',
  'hold',
  'minSamples',
  'checkEvery',
  'stepTimeout',
  'onTimeout',
  'alpha',
  'srm',
  'guardrails',
  'metrics',
]);

/**
 * Reads a plan (YAML or JSON text, or an object) and checks it whole, on its own: every problem is
 * named by its path, and a plan with any is refused with a {@link PlanError}. Checking it against
 * the flag is {@link checkPlanAgainstFlag}'s job.
 */
export function parsePlan(input: string | object): RolloutPlan {
  const issues: PlanIssue[] = [];
  const report: Report = (path, message) => {
    issues.push({ path, message });
    return undefined;
  };
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = parseYaml(input, { uniqueKeys: true, maxAliasCount: 10 }); // JSON is YAML too
    } catch (error) {
      throw new PlanError([{ path: '', message: `not YAML or JSON: ${(error as Error).message}` }]);
    }
  }
  if (!isObject(raw)) throw new PlanError([{ path: '', message: 'a plan is an object' }]);
  for (const key of Object.keys(raw))
    if (!PLAN_KEYS.has(key)) report(childPath('', key), 'unknown key');
  const text = (key: string, required: boolean) => {
    const value = raw[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') report(key, 'must be a non-empty string');
    return typeof value === 'string' ? value : '';
  };
  const duration = (key: string, fallback: string) => {
    const value = parseDuration(raw[key] ?? fallback);
    if (value === undefined || value <= 0)
      report(key, 'must be a positive duration such as 30s, 10m or 2h');
    return value ?? 0;
  };
  const flag = text('flag', true) as string;
  const treatment = text('treatment', true) as string;
  const control = text('control', true) as string;
  const safeVariant = text('safeVariant', false) ?? control;
  if (treatment === control && treatment !== '') report('control', 'must differ from treatment');
  if (safeVariant === treatment && treatment !== '')
    report('safeVariant', 'must not be the treatment');

  let rings: RolloutPlan['rings'];
  if (raw['rings'] !== undefined) {
    const r = raw['rings'];
    const attribute = isObject(r) ? r['attribute'] : undefined;
    const stages = isObject(r) ? r['stages'] : undefined;
    if (typeof attribute !== 'string' || attribute === '')
      report('rings.attribute', 'must name a context attribute');
    if (
      !Array.isArray(stages) ||
      stages.length === 0 ||
      !stages.every((s) => typeof s === 'string' && s !== '')
    )
      report('rings.stages', 'must be a list of ring names');
    else if (new Set(stages).size !== stages.length) report('rings.stages', 'names a ring twice');
    rings = {
      attribute: String(attribute),
      stages: Array.isArray(stages) ? stages.map(String) : [],
    };
  }
  const hold = duration('hold', '10m');
  const percentSteps =
    raw['steps'] === undefined
      ? (report('steps', 'a plan needs steps') ?? [])
      : readSteps(raw['steps'], hold, report);
  checkSteps(percentSteps, report);
  const ringSteps: RolloutStep[] = (rings?.stages ?? []).map((_, i, stages) => ({
    kind: 'ring',
    rings: stages.slice(0, i + 1),
    holdMs: hold,
  }));

  const minSamples = raw['minSamples'] ?? 1000;
  if (typeof minSamples !== 'number' || !Number.isInteger(minSamples) || minSamples < 1)
    report('minSamples', 'must be a whole number ≥ 1');
  const onTimeout = raw['onTimeout'] ?? 'hold';
  if (onTimeout !== 'hold' && onTimeout !== 'rollback')
    report('onTimeout', 'must be hold or rollback');
  const alpha = raw['alpha'] ?? 0.05;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 0.5))
    report('alpha', 'must be in (0, 0.5)');
  const srmRaw = raw['srm'] ?? {};
  const srm = {
    threshold:
      isObject(srmRaw) && typeof srmRaw['threshold'] === 'number' ? srmRaw['threshold'] : 0.001,
    action: (isObject(srmRaw) ? (srmRaw['action'] ?? 'hold') : 'hold') as SrmAction,
  };
  if (!['hold', 'rollback', 'warn'].includes(srm.action))
    report('srm.action', 'must be hold, rollback or warn');
  if (!(srm.threshold > 0 && srm.threshold < 1))
    report('srm.threshold', 'must be a p-value in (0, 1)');

  const guardrailsRaw = raw['guardrails'] ?? DEFAULT_GUARDRAILS;
  const guardrails = Array.isArray(guardrailsRaw)
    ? guardrailsRaw.flatMap((g, i) => readGuardrail(g, childPath('guardrails', i), report) ?? [])
    : (report('guardrails', 'must be a list') ?? []);
  if (Array.isArray(guardrailsRaw) && guardrailsRaw.length === 0)
    report('guardrails', 'a rollout needs at least one guardrail');
  const names = guardrails.map((g) => g.name);
  if (new Set(names).size !== names.length) report('guardrails', 'two guardrails share a name');
  const metrics = isObject(raw['metrics']) ? raw['metrics'] : {};
  const prometheus = metrics['prometheus'];
  if (
    prometheus !== undefined &&
    (typeof prometheus !== 'string' || !/^https?:\/\//.test(prometheus))
  )
    report('metrics.prometheus', 'must be an http(s) URL');

  const checkEveryMs = duration('checkEvery', '30s');
  const stepTimeoutMs = duration('stepTimeout', '2h');
  if (issues.length > 0) throw new PlanError(issues);
  return {
    flag,
    treatment,
    control,
    safeVariant,
    rings,
    steps: [...ringSteps, ...percentSteps],
    minSamples: minSamples as number,
    checkEveryMs,
    stepTimeoutMs,
    onTimeout: onTimeout as 'hold' | 'rollback',
    alpha: alpha as number,
    srm,
    guardrails,
    metrics: { prometheus: typeof prometheus === 'string' ? prometheus : undefined },
  };
}
