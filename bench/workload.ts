/** The flags and users both evaluators are measured on. */

export const RING_RULE = {
  if: [
    { in: [{ var: 'ring' }, ['internal', 'beta']] },
    'on',
    { fractional: [{ var: 'targetingKey' }, ['on', 5], ['off', 95]] },
  ],
};

export const BENCH_FLAGS = {
  flags: {
    'static-bool': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    ring: {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: RING_RULE,
    },
    'four-way': {
      state: 'ENABLED',
      variants: { a: 'a', b: 'b', c: 'c', d: 'd' },
      defaultVariant: 'a',
      targeting: {
        fractional: [
          ['a', 10],
          ['b', 20],
          ['c', 30],
          ['d', 40],
        ],
      },
    },
    semver: {
      state: 'ENABLED',
      variants: { new: 'new', old: 'old' },
      defaultVariant: 'old',
      targeting: { if: [{ sem_ver: [{ var: 'appVersion' }, '>=', '2.4.0'] }, 'new', 'old'] },
    },
  },
};

/** 10,000 distinct users; one in fifty is in the beta ring. */
export function users(count: number): { targetingKey: string; ring: string; appVersion: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    targetingKey: `user-${i}`,
    ring: i % 50 === 0 ? 'beta' : 'public',
    appVersion: `${1 + (i % 4)}.${i % 10}.${i % 7}`,
  }));
}

/** `count` generated flags, each with a ring/fractional or sem_ver rule; `variant` changes flag 1. */
export function generatedFlags(count: number, variant = 0): string {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const weight = i === 1 ? 5 + variant : 1 + (i % 99);
    flags[`flag-${i}`] = {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting:
        i % 3 === 0
          ? {
              if: [{ sem_ver: [{ var: 'appVersion' }, '>=', `${i % 5}.${i % 10}.0`] }, 'on', 'off'],
            }
          : {
              if: [
                { in: [{ var: 'ring' }, ['internal', `ring-${i % 7}`]] },
                'on',
                {
                  fractional: [
                    { cat: [{ var: '$flagd.flagKey' }, { var: 'targetingKey' }] },
                    ['on', weight],
                    ['off', 100 - weight],
                  ],
                },
              ],
            },
      metadata: { owner: `team-${i % 20}` },
    };
  }
  return JSON.stringify({ metadata: { flagSetId: 'bench' }, flags });
}
