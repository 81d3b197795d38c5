/**
 * The small pieces every SVG chart of rampflag draws with (the rollout simulation's, the
 * experiment's): escaping, coordinates, text and axis ticks. Pure. @internal
 */

/** A coordinate with one decimal. */
export const coord = (n: number): string => n.toFixed(1);

/** Text and attribute values escaped for SVG (XML). */
export const esc = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** A `<text>` element at (x, y), its body escaped. */
export function svgText(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${coord(x)}" y="${coord(y)}" ${attrs}>${esc(body)}</text>`;
}

/** Round tick steps (1, 2, 5 × 10^k) covering [min, max] with about `count` ticks. */
export function ticks(min: number, max: number, count: number): number[] {
  const raw = (max - min) / count;
  if (!(raw > 0)) return [min];
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step)
    out.push(Math.round(v / step) * step);
  return out;
}
