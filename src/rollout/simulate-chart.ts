import { formatDuration } from './duration.js';
import type { RolloutRun, TracePoint } from './simulate-run.js';
import { coord as f, svgText as text, ticks } from '../chart/svg.js';

/** What the chart says besides the trace. */
export interface ChartLabels {
  readonly title: string;
  /** The guardrail's allowed worsening, drawn as a line (a rate, e.g. 0.002). */
  readonly maxIncrease: number;
  readonly guardrail: string;
}

const W = 880;
const H = 520;
const LEFT = 78;
const RIGHT = 24;
const TOP = { y: 64, h: 150 }; // the treatment share
const BOTTOM = { y: 262, h: 190 }; // the guardrail's interval
const PLOT_W = W - LEFT - RIGHT;
const COLOURS = { share: '#2563eb', band: '#f59e0b', estimate: '#b45309', limit: '#dc2626' };

/** The treatment share over time as a step line, with its axis. */
function sharePanel(
  trace: readonly TracePoint[],
  x: (t: number) => number,
  end: number,
  edge: number,
): string {
  const y = (p: number) => TOP.y + TOP.h - (p / 100) * TOP.h;
  let d = `M${f(x(0))},${f(y(trace[0]?.percent ?? 0))}`;
  for (const point of trace) d += `H${f(x(point.time))}V${f(y(point.percent))}`;
  d += `H${f(x(end))}`;
  const last = trace.at(-1);
  const after =
    last?.action === 'rollback'
      ? [
          `<path d="M${f(x(end))},${f(y(last.percent))}V${f(y(0))}H${f(x(edge))}" fill="none" stroke="${COLOURS.limit}" stroke-width="2.5" stroke-dasharray="5 3"/>`,
          `<circle cx="${f(x(end))}" cy="${f(y(last.percent))}" r="6" fill="${COLOURS.limit}"/>`,
        ]
      : [];
  // each step's share, written where it begins
  const starts = trace.filter((p, i) => i === 0 || p.step !== trace[i - 1]?.step);
  const names = starts.map((p, i) =>
    text(
      x(i === 0 ? 0 : (trace[trace.indexOf(p) - 1]?.time ?? 0)) + 4,
      y(p.percent) - 6,
      `${p.percent} %`,
      `fill="${COLOURS.share}"`,
    ),
  );
  const grid = [0, 25, 50, 75, 100].map(
    (p) =>
      `<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${f(y(p))}" y2="${f(y(p))}" class="grid"/>` +
      text(LEFT - 8, y(p) + 4, `${p} %`, 'text-anchor="end"'),
  );
  return [
    ...grid,
    `<path d="${d}" fill="none" stroke="${COLOURS.share}" stroke-width="2.5"/>`,
    ...after,
    ...names,
    text(
      16,
      TOP.y + TOP.h / 2,
      'Treatment share',
      `transform="rotate(-90 16 ${TOP.y + TOP.h / 2})" text-anchor="middle" class="axis"`,
    ),
  ].join('\n');
}

/** The guardrail's treatment − control interval as a band, its estimate, zero and the limit. */
function intervalPanel(
  trace: readonly TracePoint[],
  x: (t: number) => number,
  labels: ChartLabels,
): string {
  const points = trace.filter((p) => p.difference !== undefined);
  const last = points.at(-1)?.difference;
  const top = Math.max(2.5 * labels.maxIncrease, (last?.upper ?? 0) * 1.4, 0.001);
  const bottom = -0.6 * top;
  const y = (v: number) => BOTTOM.y + ((top - v) / (top - bottom)) * BOTTOM.h;
  const upper = points.map((p) => `${f(x(p.time))},${f(y(p.difference?.upper ?? 0))}`);
  const lower = points.map((p) => `${f(x(p.time))},${f(y(p.difference?.lower ?? 0))}`).reverse();
  const estimate = points.map((p) => `${f(x(p.time))},${f(y(p.difference?.estimate ?? 0))}`);
  const grid = ticks(bottom, top, 5).map(
    (v) =>
      `<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${f(y(v))}" y2="${f(y(v))}" class="${v === 0 ? 'zero' : 'grid'}"/>` +
      text(LEFT - 8, y(v) + 4, `${(v * 100).toFixed(2)}`, 'text-anchor="end"'),
  );
  const limit = y(labels.maxIncrease);
  const mid = BOTTOM.y + BOTTOM.h / 2;
  const crossed =
    trace.at(-1)?.action === 'rollback' && last !== undefined
      ? `<circle cx="${f(x(points.at(-1)?.time ?? 0))}" cy="${f(y(last.lower))}" r="6" fill="${COLOURS.limit}"/>`
      : '';
  return [
    `<clipPath id="plot"><rect x="${LEFT}" y="${BOTTOM.y}" width="${PLOT_W}" height="${BOTTOM.h}"/></clipPath>`,
    ...grid,
    `<g clip-path="url(#plot)">`,
    points.length > 0
      ? `<polygon points="${[...upper, ...lower].join(' ')}" fill="${COLOURS.band}" fill-opacity="0.3" stroke="${COLOURS.band}" stroke-width="1"/>`
      : '',
    `<polyline points="${estimate.join(' ')}" fill="none" stroke="${COLOURS.estimate}" stroke-width="2"/>`,
    `</g>`,
    crossed,
    `<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${f(limit)}" y2="${f(limit)}" stroke="${COLOURS.limit}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    text(
      LEFT + PLOT_W * 0.4,
      limit - 6,
      `maxIncrease +${(labels.maxIncrease * 100).toFixed(2)} points`,
      `fill="${COLOURS.limit}" stroke="#ffffff" stroke-width="3" paint-order="stroke"`,
    ),
    text(
      18,
      mid,
      `${labels.guardrail}: treatment − control`,
      `transform="rotate(-90 18 ${mid})" text-anchor="middle" class="axis"`,
    ),
    text(
      36,
      mid,
      '(percentage points)',
      `transform="rotate(-90 36 ${mid})" text-anchor="middle" class="small"`,
    ),
  ].join('\n');
}

function legend(): string {
  const y = BOTTOM.y + BOTTOM.h + 58;
  const items = [
    `<line x1="${LEFT}" x2="${LEFT + 24}" y1="${y}" y2="${y}" stroke="${COLOURS.share}" stroke-width="2.5"/>`,
    text(LEFT + 30, y + 4, 'treatment share'),
    `<rect x="${LEFT + 160}" y="${y - 6}" width="24" height="12" fill="${COLOURS.band}" fill-opacity="0.3" stroke="${COLOURS.band}"/>`,
    text(LEFT + 190, y + 4, 'anytime-valid interval (α split over guardrails)'),
    `<line x1="${LEFT + 510}" x2="${LEFT + 534}" y1="${y}" y2="${y}" stroke="${COLOURS.estimate}" stroke-width="2"/>`,
    text(LEFT + 540, y + 4, 'estimate'),
    `<circle cx="${LEFT + 630}" cy="${y}" r="5" fill="${COLOURS.limit}"/>`,
    text(LEFT + 640, y + 4, 'rollback'),
  ];
  return items.join('\n');
}

/**
 * A hand-written SVG of one simulated rollout: the treatment share over time (a step line), the
 * first guardrail's treatment − control interval as a band with its estimate and the allowed
 * worsening, and a marker where the rollout rolled back. No chart library.
 */
export function renderRolloutChart(run: RolloutRun, labels: ChartLabels): string {
  const end = run.timeMs;
  const edge = end * 1.06; // room to show what the rollback did
  const x = (t: number) => LEFT + (t / edge) * PLOT_W;
  const minutes = ticks(0, edge / 60_000, 8).filter((m) => m * 60_000 <= edge);
  const xTicks = minutes.map((m) => {
    const at = f(x(m * 60_000));
    return (
      `<line x1="${at}" x2="${at}" y1="${TOP.y}" y2="${TOP.y + TOP.h}" class="grid"/>` +
      `<line x1="${at}" x2="${at}" y1="${BOTTOM.y}" y2="${BOTTOM.y + BOTTOM.h}" class="grid"/>` +
      text(x(m * 60_000), BOTTOM.y + BOTTOM.h + 18, `${m}`, 'text-anchor="middle"')
    );
  });
  const back = run.outcome === 'rolled-back';
  const marker = back
    ? [
        `<line x1="${f(x(end))}" x2="${f(x(end))}" y1="${TOP.y}" y2="${BOTTOM.y + BOTTOM.h}" stroke="${COLOURS.limit}" stroke-width="1.5"/>`,
        text(
          x(end) - 8,
          TOP.y + 14,
          `rolled back at ${formatDuration(end)}`,
          `text-anchor="end" fill="${COLOURS.limit}" font-weight="bold"`,
        ),
      ]
    : [];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.grid{stroke:#e5e7eb;stroke-width:1}.zero{stroke:#6b7280;stroke-width:1}.axis{font-size:13px;font-weight:bold;fill:#111827}.small{font-size:11px;fill:#4b5563}text{fill:#374151}</style>',
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(LEFT, 28, labels.title, 'class="axis" font-size="15"'),
    ...xTicks,
    sharePanel(run.trace, x, end, edge),
    intervalPanel(run.trace, x, labels),
    `<rect x="${LEFT}" y="${TOP.y}" width="${PLOT_W}" height="${TOP.h}" fill="none" stroke="#9ca3af"/>`,
    `<rect x="${LEFT}" y="${BOTTOM.y}" width="${PLOT_W}" height="${BOTTOM.h}" fill="none" stroke="#9ca3af"/>`,
    ...marker,
    text(
      LEFT + PLOT_W / 2,
      BOTTOM.y + BOTTOM.h + 36,
      'Time since the rollout started (minutes)',
      'text-anchor="middle" class="axis"',
    ),
    legend(),
    '</svg>',
    '',
  ].join('\n');
}
