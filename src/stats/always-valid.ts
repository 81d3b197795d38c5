/**
 * The always-valid p-value of the mixture sequential probability ratio test (Johari, Koomen,
 * Pekelis & Walsh, "Peeking at A/B tests", KDD 2017; "Always valid inference", Operations Research
 * 70, 2022). For an estimate θ̂ with variance V and a normal mixture N(0, τ²) over the effect, the
 * mixture likelihood ratio against θ = 0 is
 *
 *   Λ = sqrt( V / (V + τ²) ) · exp( τ²·θ̂² / (2V(V + τ²)) )
 *
 * and p = min(1, 1/Λ). It is the dual of `confidenceSequence` (src/stats/sequential.ts): p ≤ α
 * exactly when the level-α interval θ̂ ± sqrt( V(V+τ²)/τ² · (2·ln(1/α) + ln((V+τ²)/V)) ) excludes 0.
 * Over a series of looks the always-valid p-value is the running minimum (`alwaysValidPValues`):
 * P(it ever falls to α or below | θ = 0) ≤ α, however often one looks.
 */
import type { Estimate } from './sequential.js';

function checkTau(tau: number): void {
  if (!(tau > 0 && Number.isFinite(tau)))
    throw new RangeError(`tau must be a positive number, got ${tau}`);
}

/**
 * The smallest α at which `confidenceSequence(estimate, α, tau)` excludes 0, at one look: the
 * mSPRT's 1/Λ, capped at 1. For a difference of rates, `estimate` is `proportionDifference`; for
 * means, `meanDifference` (V from the sample variances). NaN for a NaN estimate.
 */
export function alwaysValidPValue(estimate: Estimate, tau: number): number {
  checkTau(tau);
  if (Number.isNaN(estimate.estimate) || Number.isNaN(estimate.variance)) return Number.NaN;
  // the same floor as confidenceSequence, so the two agree when V is 0
  const v = Math.max(estimate.variance, Number.MIN_VALUE);
  const t2 = tau * tau;
  // θ̂²/(2V) first: with V near 0 it is 0 for θ̂ = 0 (p = 1) and ∞ otherwise (p = 0), not 0/0
  const logP =
    0.5 * (Math.log(v + t2) - Math.log(v)) -
    ((estimate.estimate * estimate.estimate) / (2 * v)) * (t2 / (v + t2));
  return logP >= 0 ? 1 : Math.exp(logP);
}

/**
 * The always-valid p-value after each look of a series: the running minimum of each look's
 * `alwaysValidPValue` (Johari et al., p_n = min(p_{n−1}, 1/Λ_n)). A look without an estimate
 * (no users yet) keeps the previous value (1 before any).
 */
export function alwaysValidPValues(
  estimates: readonly (Estimate | undefined)[],
  tau: number,
): number[] {
  checkTau(tau);
  let running = 1;
  return estimates.map((estimate) => {
    if (estimate !== undefined) {
      const p = alwaysValidPValue(estimate, tau);
      if (p < running) running = p;
    }
    return running;
  });
}
