/**
 * Argument checks shared by the tests and intervals: malformed input throws a RangeError naming
 * the argument; empty input (no users) is not malformed and gives NaN where a figure is undefined.
 * @internal
 */

/** Throws unless 0 < alpha < 1. */
export function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/** Throws unless `value` is a finite number ≥ 0. */
export function checkCount(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}
