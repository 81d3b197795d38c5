/**
 * Numbers in verdicts and tables, for people: signed percentages with a true minus sign, p-values
 * at a readable precision.
 */

const MINUS = '\u2212';

/** A signed share as a percentage: `+4.1 %`, `−0.35 %` (digits after the point: 1 by default). */
export function signedPercent(share: number, digits = 1): string {
  if (!Number.isFinite(share)) return share > 0 ? '+∞' : share < 0 ? `${MINUS}∞` : 'n/a';
  const text = (Math.abs(share) * 100).toFixed(digits);
  const zero = Number(text) === 0;
  return `${zero ? '' : share < 0 ? MINUS : '+'}${text} %`;
}

/** A signed number: `+1.25`, `−0.40`. */
export function signedNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : value < 0 ? `${MINUS}∞` : 'n/a';
  const text = Math.abs(value).toFixed(digits);
  return `${Number(text) === 0 ? '' : value < 0 ? MINUS : '+'}${text}`;
}

/** A p-value: `0.43`, `0.0031`, `2.1e-9`, `< 1e-15` below what doubles tell apart from 0. */
export function pText(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  if (p >= 0.01) return p.toFixed(2);
  if (p >= 0.0001) return p.toPrecision(2);
  return p < 1e-15 ? '< 1e-15' : p.toExponential(1);
}

/** A p-value after its name: `= 0.43`, or `< 1e-15` (so `p < 1e-15`, not `p = < 1e-15`). */
export function pIs(p: number): string {
  const text = pText(p);
  return text.startsWith('<') ? text : `= ${text}`;
}

/** A level such as 95 % from α = 0.05: `95 %`, `99.5 %`. */
export function levelText(alpha: number): string {
  return `${Number(((1 - alpha) * 100).toPrecision(4))} %`;
}
