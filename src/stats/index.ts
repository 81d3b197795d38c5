/**
 * Pure statistics shared by rollouts and experiments: anytime-valid confidence sequences,
 * stratified differences, sample ratio mismatch. No I/O.
 * @internal
 */
export { confidenceSequence, differenceOf, rateOf, stratifiedDifference } from './sequential.js';
export type { Counts, Estimate, Interval, Stratum } from './sequential.js';
export { sampleRatioMismatch } from './srm.js';
export type { SrmResult } from './srm.js';
export { chiSquaredTail, lnGamma, upperGamma } from './gamma.js';
export { binomial, seededRandom } from './random.js';
