import type { CohortExposure, Exposure } from './exposure.js';
import type { FlagSummary } from './flag-summary.js';
import type { CliIo } from './io.js';
import { colorsFor } from './output.js';
import { percentText } from './rule-text.js';

/** The flag's definition, rollout phase and freeze, for people. */
export function definitionLines(io: CliIo, summary: FlagSummary, origin: string): string[] {
  const c = colorsFor(io);
  const row = (name: string, value: string) => `  ${name.padEnd(10)} ${value}`;
  const variants = Object.entries(summary.variants)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(', ');
  const lines = [
    `${c.bold(summary.flag)}  ${c.dim(`(${origin})`)}`,
    row('state', summary.state === 'DISABLED' ? c.yellow('DISABLED') : String(summary.state)),
    row('variants', `${variants}  ${c.dim(`(${summary.type})`)}`),
    row('default', summary.defaultVariant ?? "none (the caller's default value)"),
  ];
  summary.rules.forEach((rule, i) => lines.push(row(i === 0 ? 'targeting' : '', rule)));
  if (summary.rules.length === 0) lines.push(row('targeting', 'none'));
  const metadata = Object.entries(summary.metadata).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  if (metadata.length > 0) lines.push(row('metadata', metadata.join(', ')));
  const r = summary.rollout;
  if (summary.rolloutError !== undefined)
    lines.push(row('rollout', c.red(`unreadable: ${summary.rolloutError}`)));
  else if (r === null) lines.push(row('rollout', 'none'));
  else {
    const safe = r.safeVariant === undefined ? '' : `; safe variant ${r.safeVariant}`;
    lines.push(
      row(
        'rollout',
        `${r.status} at step ${r.step}: ${r.percent} % on the treatment, since ${r.since} (id ${r.id})${safe}`,
      ),
    );
  }
  const f = summary.freeze;
  lines.push(row('freeze', f === null ? 'none' : f.active ? c.red(f.text) : f.text));
  return lines;
}

function basisText(cohort: CohortExposure, weight: number | undefined): string {
  const exact = cohort.exact;
  if (exact === undefined) return '';
  if (exact.basis === 'weights')
    return `weight ${weight?.toLocaleString('en-US')} of ${exact.total?.toLocaleString('en-US')}`;
  return {
    static: 'no targeting',
    disabled: 'disabled',
    'by-name': 'by name',
    default: 'default variant',
  }[exact.basis];
}

function measuredText(cohort: CohortExposure, variant: string): string {
  const { n, shares } = cohort.sample;
  if (n === 0) return '';
  const share = shares.find((s) => s.variant === variant)?.share ?? 0;
  const margin = 1.96 * Math.sqrt((share * (1 - share)) / n);
  return `${percentText(share)} ± ${percentText(margin)} of ${n.toLocaleString('en-US')}`;
}

/** The exposure table's rows: cohort, variant, share, how it is known, as measured. */
export function exposureRows(exposure: Exposure): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const cohort of exposure.cohorts) {
    const label = (i: number) => (i === 0 ? cohort.label : '');
    const exact = cohort.exact;
    if (exact !== undefined)
      exact.shares.forEach((s, i) =>
        rows.push([
          label(i),
          s.variant,
          percentText(s.share),
          `exact: ${basisText(cohort, s.weight)}`,
          measuredText(cohort, s.variant),
        ]),
      );
    else if (cohort.sample.n === 0)
      rows.push([label(0), '?', '', 'no generated subject reached it', '']);
    else
      cohort.sample.shares.forEach((s, i) =>
        rows.push([
          label(i),
          s.variant,
          `≈ ${percentText(s.share)}`,
          'estimate',
          measuredText(cohort, s.variant),
        ]),
      );
  }
  return rows;
}
