import type { ExperimentAnalysis, LiftPoint } from './analyze.js';
import { levelText, signedPercent } from './format.js';
import { coord as f, svgText as text, ticks } from '../chart/svg.js';

/** Options of {@link experimentChart}. */
export interface ChartOptions {
  /** The metric charted. Default: the first metric of the analysis. */
  readonly metric?: string;
  /** The title. Default: `<flag>: <metric>, relative lift over time`. */
  readonly title?: string;
}

const W = 880;
const LEFT = 78;
const RIGHT = 150;
const PANEL_H = 170;
const GAP = 46;
const TOP = 88;
const PLOT_W = W - LEFT - RIGHT;
/** At most this many variants are drawn, one panel each. */
export const MAX_CHART_VARIANTS = 8;
const PALETTE = [
  '#2563eb',
  '#16a34a',
  '#9333ea',
  '#db2777',
  '#ea580c',
  '#0891b2',
  '#4d7c0f',
  '#b45309',
];

/** The lift's range shown: the intervals after the first fifth of the time, 0 included. */
function yRange(points: readonly { t: number; p: LiftPoint }[], end: number): [number, number] {
  const late = points.filter((q) => q.t >= end * 0.2);
  const use = late.length > 0 ? late : points;
  let low = Math.min(0, ...use.map((q) => q.p.low));
  let high = Math.max(0, ...use.map((q) => q.p.high));
  if (!(high - low > 1e-9)) [low, high] = [-0.05, 0.05];
  const pad = (high - low) * 0.12;
  return [low - pad, high + pad];
}

/** Elapsed time for an axis: `12h`, `3d`, `2.5d`. */
function elapsed(ms: number, unit: number): string {
  const n = Number((ms / unit).toPrecision(3));
  return `${n}${unit === 86_400_000 ? 'd' : unit === 3_600_000 ? 'h' : 'min'}`;
}

function panel(
  index: number,
  variant: string,
  points: readonly { t: number; p: LiftPoint }[],
  x: (t: number) => number,
  end: number,
): string {
  const top = TOP + index * (PANEL_H + GAP);
  const colour = PALETTE[index % PALETTE.length] as string;
  const [low, high] = yRange(points, end);
  const y = (v: number) => top + ((high - v) / (high - low)) * PANEL_H;
  const clamp = (v: number) => Math.min(Math.max(y(v), top - 2), top + PANEL_H + 2);
  const upper = points.map((q) => `${f(x(q.t))},${f(clamp(q.p.high))}`);
  const lower = points.map((q) => `${f(x(q.t))},${f(clamp(q.p.low))}`).reverse();
  const line = points.map((q) => `${f(x(q.t))},${f(clamp(q.p.estimate))}`);
  const grid = ticks(low, high, 5).map(
    (v) =>
      `<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${f(y(v))}" y2="${f(y(v))}" class="${v === 0 ? 'zero' : 'grid'}"/>` +
      text(
        LEFT - 8,
        y(v) + 4,
        signedPercent(v, Math.abs(high - low) < 0.1 ? 1 : 0),
        'text-anchor="end"',
      ),
  );
  const last = points.at(-1)?.p;
  const label = last
    ? [
        text(
          LEFT + PLOT_W + 10,
          y(last.estimate) + 4,
          signedPercent(last.estimate),
          `fill="${colour}" font-weight="bold"`,
        ),
        text(
          LEFT + PLOT_W + 10,
          y(last.estimate) + 19,
          `${signedPercent(last.low)} … ${signedPercent(last.high)}`,
          'class="small"',
        ),
      ]
    : [
        text(
          LEFT + PLOT_W / 2,
          top + PANEL_H / 2,
          'no lift to show (no data, or a control rate of 0)',
          'text-anchor="middle" class="small"',
        ),
      ];
  return [
    `<clipPath id="plot-${index}"><rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}"/></clipPath>`,
    text(LEFT, top - 8, `${variant} vs control`, `class="axis" fill="${colour}"`),
    ...grid,
    `<g clip-path="url(#plot-${index})">`,
    points.length > 0
      ? `<polygon points="${[...upper, ...lower].join(' ')}" fill="${colour}" fill-opacity="0.18" stroke="${colour}" stroke-opacity="0.5" stroke-width="1"/>`
      : '',
    `<polyline points="${line.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`,
    `</g>`,
    `<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#9ca3af"/>`,
    ...label,
  ].join('\n');
}

/**
 * A hand-written SVG of one metric's relative lift over time (treatment / control − 1), one panel
 * per variant against the control: the interval as a band (the anytime-valid confidence sequence
 * when the analysis decides sequentially, so reading it every day is sound; else the fixed-horizon
 * interval), the estimate as a line, and the zero line. Built from `analysis.timeline` (give
 * `ExperimentData.series` to {@link analyzeExperiment}); every text is escaped.
 */
export function experimentChart(analysis: ExperimentAnalysis, options: ChartOptions = {}): string {
  const metric = options.metric ?? analysis.metrics[0]?.metric ?? '';
  const times = analysis.timeline.map((p) => Date.parse(p.time));
  const start = Math.min(...times.filter(Number.isFinite));
  const variants = [
    ...new Set(
      analysis.comparisons.filter((c) => c.metric === metric).map((c) => c.treatment.variant),
    ),
  ].slice(0, MAX_CHART_VARIANTS);
  const series = variants.map((v) =>
    analysis.timeline.flatMap((p, i) => {
      const lift = p.lifts.find((l) => l.metric === metric && l.variant === v);
      const t = (times[i] as number) - start;
      return lift && Number.isFinite(t) ? [{ t, p: lift }] : [];
    }),
  );
  const end = Math.max(1, ...series.flat().map((q) => q.t));
  const x = (t: number) => LEFT + (t / end) * PLOT_W;
  const unit = end >= 2 * 86_400_000 ? 86_400_000 : end >= 2 * 3_600_000 ? 3_600_000 : 60_000;
  const bottom = TOP + Math.max(1, variants.length) * (PANEL_H + GAP) - GAP;
  const xTicks = ticks(0, end / unit, 8).map((u) => {
    const at = x(u * unit);
    return (
      `<line x1="${f(at)}" x2="${f(at)}" y1="${TOP}" y2="${bottom}" class="grid"/>` +
      text(at, bottom + 18, elapsed(u * unit, unit), 'text-anchor="middle"')
    );
  });
  const H = bottom + 76;
  const interval = analysis.sequential
    ? `anytime-valid ${levelText(analysis.alpha)} interval (τ = ${signedPercent(analysis.tau).slice(1)})`
    : `fixed-horizon ${levelText(analysis.alpha)} interval`;
  const title = options.title ?? `${analysis.flag}: ${metric}, relative lift over time`;
  const when = (time: string | undefined) =>
    (time ?? '').replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  const first = when(analysis.timeline[0]?.time);
  const last = when(analysis.timeline.at(-1)?.time);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.grid{stroke:#e5e7eb;stroke-width:1}.zero{stroke:#6b7280;stroke-width:1.5}.axis{font-size:13px;font-weight:bold;fill:#111827}.small{font-size:11px;fill:#4b5563}text{fill:#374151}</style>',
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(LEFT, 28, title, 'class="axis" font-size="15"'),
    text(
      LEFT,
      46,
      `treatment / control − 1, ${interval}; control ${analysis.control}`,
      'class="small"',
    ),
    ...xTicks,
    ...variants.map((v, i) => panel(i, v, series[i] ?? [], x, end)),
    ...(variants.length === 0 ? [text(LEFT, TOP + 20, `no variant to chart for ${metric}`)] : []),
    text(
      LEFT + PLOT_W / 2,
      bottom + 38,
      `Time since ${first} (to ${last})`,
      'text-anchor="middle" class="axis"',
    ),
    '</svg>',
    '',
  ].join('\n');
}
