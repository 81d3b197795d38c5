import { CliError } from './command.js';

/**
 * A share written as a percentage or a fraction: `5%`, `5 %` and `0.05` are all 0.05. A bare
 * number of 1 or more is refused as ambiguous (write `5%`).
 */
export function parseShare(text: string, option: string, { positive = true } = {}): number {
  const match = /^\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(%?)\s*$/i.exec(text);
  if (match === null)
    throw new CliError(`${option}: "${text}" is not a share (e.g. 5% or 0.05)`, 'usage');
  const value = Number(match[1]) / (match[2] === '%' ? 100 : 1);
  if (match[2] !== '%' && Math.abs(value) >= 1)
    throw new CliError(
      `${option}: "${text}" is ambiguous: write ${text}% or a fraction under 1`,
      'usage',
    );
  if (positive && !(value > 0))
    throw new CliError(`${option} must be above 0, got ${text}`, 'usage');
  return value;
}

/** A number in an open range, for an option. */
export function parseNumber(
  text: string,
  option: string,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  const value = Number(text.replaceAll('_', '').replaceAll(',', ''));
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value <= min ||
    value >= max ||
    (integer && !Number.isInteger(value))
  )
    throw new CliError(
      `${option}: "${text}" is not ${integer ? 'a whole number' : 'a number'}${min > -Infinity ? ` above ${min}` : ''}${max < Infinity ? ` under ${max}` : ''}`,
      'usage',
    );
  return value;
}

/** `on=50,off=50` (or `on:1 off:1`) as weights per variant. */
export function parseShares(text: string): Record<string, number> {
  const entries = text.split(/[\s,]+/).filter((s) => s !== '');
  const out = new Map<string, number>();
  for (const entry of entries) {
    const match = /^(.+?)[=:](\d+(?:\.\d+)?)%?$/.exec(entry);
    if (match === null)
      throw new CliError(`--shares: "${entry}" is not variant=weight (e.g. on=50,off=50)`, 'usage');
    out.set(match[1] as string, Number(match[2]));
  }
  if (entries.length < 2) throw new CliError('--shares needs two variants or more', 'usage');
  // fromEntries defines own properties: a variant called __proto__ is kept, not a prototype
  return Object.fromEntries(out);
}
