/**
 * Pure statistics shared by rollouts and experiments: anytime-valid confidence sequences,
 * stratified differences, sample ratio mismatch, the tests and intervals of experiment analysis.
 * No I/O.
 * @internal
 */
export { confidenceSequence, differenceOf, rateOf, stratifiedDifference } from './sequential.js';
export type { Counts, Estimate, Interval, Stratum } from './sequential.js';
export { sampleRatioMismatch } from './srm.js';
export type { SrmResult } from './srm.js';
export { chiSquaredTail, lnGamma, upperGamma } from './gamma.js';
export { binomial, seededRandom } from './random.js';
export {
  noncentralTCdf,
  normalCdf,
  normalQuantile,
  normalTwoSidedP,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedP,
} from './distributions.js';
export {
  proportionDifference,
  proportionInterval,
  rate,
  twoProportionZTest,
} from './proportions.js';
export type { ConfidenceInterval, Proportion, ZTestResult } from './proportions.js';
export { meanDifference, welchInterval, welchTTest } from './means.js';
export type { MeanSample, WelchResult } from './means.js';
export { absoluteLift, meanRelativeLift, relativeLift, relativeLiftEstimate } from './lift.js';
export type { LiftInterval } from './lift.js';
export { holm } from './holm.js';
export type { HolmResult } from './holm.js';
export { alwaysValidPValue, alwaysValidPValues } from './always-valid.js';
export {
  daysNeeded,
  exactSampleSizeForProportions,
  powerForMeans,
  powerForProportions,
  sampleSizeForMeans,
  sampleSizeForProportions,
} from './power.js';
export type { MeansPlan, ProportionsPlan } from './power.js';
export { simulateLiftCoverage, simulateMeansPower, simulateProportionsPower } from './simulate.js';
export type { PowerSimulationResult, SimulatedShare } from './simulate.js';
export { simulatePeeking } from './simulate-peeking.js';
export type { PeekingOptions, PeekingResult } from './simulate-peeking.js';
