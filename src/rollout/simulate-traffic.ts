import { binomial, seededRandom } from '../stats/index.js';

/**
 * The synthetic traffic of a simulated rollout.
 *
 * - A fixed **population** of `users`. Each user has a uniform bucket value `u` (the stable hash of
 *   the targeting key: bucketed into the treatment at p % iff `u < p/100`, so whoever saw the
 *   treatment at p % still sees it at every q > p %), a ring stage or none (`ringShare` of users are
 *   ring members, spread evenly over the plan's ring stages), and a **frailty** `g`, Gamma with mean 1
 *   and shape `heterogeneity`: that user's requests fail at `g ×` the cohort's rate (some users hit
 *   a broken path more often than others). `Infinity` makes every user alike.
 * - **Visits** arrive as a Poisson process of `visitsPerSecond`; each picks a user uniformly at
 *   random (users come back, with the same bucket and frailty) and makes a geometric number of
 *   requests, at least 1, with mean `requestsPerVisit`.
 * - A visit's requests are simulated as one batch: its bad events, per guardrail, are one
 *   Binomial(K, min(1, g × rate)) draw (exact, and O(1) for small rates). Requests of one user are
 *   therefore correlated (one frailty, several requests per visit, several visits): request counts
 *   are over-dispersed relative to the binomial model the confidence sequence assumes, as in real
 *   traffic.
 */
export interface TrafficModel {
  /** Users in the population. */
  readonly users: number;
  /** Mean arrival rate of visits, per second of virtual time. */
  readonly visitsPerSecond: number;
  /** Mean requests per visit (geometric, ≥ 1). */
  readonly requestsPerVisit: number;
  /** The control's bad-event rate per request, for every guardrail (e.g. 0.005 = 0.5 % errors). */
  readonly baseline: number;
  /** Gamma shape of the per-user frailty (variance 1/shape); `Infinity` for none. */
  readonly heterogeneity: number;
  /** Share of users who are ring members (only used when the plan has rings). */
  readonly ringShare: number;
}

/** The default traffic: 20 visits/s of 5 requests (100 requests/s) from 20,000 users. */
export const DEFAULT_TRAFFIC: TrafficModel = {
  users: 20_000,
  visitsPerSecond: 20,
  requestsPerVisit: 5,
  baseline: 0.005,
  heterogeneity: 1,
  ringShare: 0.02,
};

/** A population of users, drawn once per simulated rollout. @internal */
export interface Population {
  /** Bucket value in [0, 1) per user. */
  readonly bucket: Float64Array;
  /** Frailty per user (mean 1). */
  readonly frailty: Float64Array;
  /** Ring stage index per user, or -1 for a bucketed user. */
  readonly ring: Int8Array;
}

/** A standard normal draw (Box–Muller, one of the pair). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) draw: Marsaglia and Tsang, with the U^(1/shape) boost below shape 1. @internal */
export function gamma(shape: number, random: () => number): number {
  if (shape === 1) return -Math.log(1 - random()); // the exponential, the default frailty
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
  return shape; // unreachable in practice: the acceptance rate is above 95 %
}

/** Draws the population. @internal */
export function drawPopulation(
  traffic: TrafficModel,
  ringStages: number,
  random: () => number,
): Population {
  const n = traffic.users;
  const bucket = new Float64Array(n);
  const frailty = new Float64Array(n);
  const ring = new Int8Array(n).fill(-1);
  const shape = traffic.heterogeneity;
  for (let i = 0; i < n; i++) {
    bucket[i] = random();
    frailty[i] = Number.isFinite(shape) ? gamma(shape, random) / shape : 1;
    if (ringStages > 0 && random() < traffic.ringShare)
      ring[i] = Math.min(ringStages - 1, Math.floor(random() * ringStages));
  }
  return { bucket, frailty, ring };
}

/** Mixes a seed and a stream number into a new 32-bit seed (splitmix32's finaliser). @internal */
export function mixSeed(seed: number, stream: number): number {
  let z = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The three independent random streams of one rollout: population, arrivals, failures. @internal */
export function streamsFor(seed: number, rollout: number) {
  const base = mixSeed(seed, rollout);
  return {
    population: seededRandom(mixSeed(base, 1)),
    arrivals: seededRandom(mixSeed(base, 2)),
    failures: seededRandom(mixSeed(base, 3)),
  };
}

/** The wait until the next visit, exponential with the given rate per ms. @internal */
export const nextGap = (ratePerMs: number, random: () => number) =>
  -Math.log(1 - random()) / ratePerMs;

/** Requests in one visit: geometric on {1, 2, …} with the given mean. @internal */
export function requestsIn(mean: number, random: () => number): number {
  if (mean <= 1) return 1;
  return 1 + Math.floor(Math.log(1 - random()) / Math.log1p(-1 / mean));
}

/** Bad events among `requests` requests failing at `rate` each. @internal */
export const badEvents = (requests: number, rate: number, random: () => number) =>
  binomial(requests, Math.min(1, rate), random);
