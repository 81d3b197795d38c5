import type { Operator } from '../rule.js';
import { arithmeticOperators } from './arithmetic.js';
import { arrayOperators } from './arrays.js';
import { comparisonOperators } from './comparison.js';
import { dataOperators } from './data.js';
import { fractionalOperators } from './fractional.js';
import { fractionalV3Operators } from './fractional-v3.js';
import { logicOperators } from './logic.js';
import { semVerOperators } from './sem-ver.js';
import { stringComparisonOperators } from './string-comparison.js';
import { stringOperators } from './strings.js';

/** Every operator the compiler knows, by name: JSON Logic's standard set plus flagd's. @internal */
export const OPERATORS: ReadonlyMap<string, Operator> = new Map(
  Object.entries({
    ...logicOperators,
    ...comparisonOperators,
    ...arithmeticOperators,
    ...dataOperators,
    ...arrayOperators,
    ...stringOperators,
    ...fractionalOperators,
    ...semVerOperators,
    ...stringComparisonOperators,
  }),
);

/**
 * The operators that take the place of {@link OPERATORS}' under the evaluator option
 * `fractional: 'v3'`: `fractional` (and its legacy name) with CBOR-encoded bucketing values.
 * @internal
 */
export const FRACTIONAL_V3_OPERATORS: ReadonlyMap<string, Operator> = new Map(
  Object.entries(fractionalV3Operators),
);
