/** A seeded uniform generator on [0, 1): mulberry32, fast and good enough for simulations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Binomial(n, p) draw by waiting times: geometric gaps between successes, so it costs O(np + 1)
 * and is exact. For the small rates guardrails watch (errors, slow requests) that is a few steps.
 */
export function binomial(n: number, p: number, random: () => number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  const logQ = Math.log1p(-p);
  let successes = 0;
  let position = 0;
  for (;;) {
    position += Math.floor(Math.log(1 - random()) / logQ) + 1;
    if (position > n) return successes;
    successes++;
  }
}
