/** The flags and users both evaluators are measured on. */

export const RING_RULE = {
  if: [
    { in: [{ var: 'ring' }, ['internal', 'beta']] },
    'on',
    { fractional: [{ var: 'targetingKey' }, ['on', 5], ['off', 95]] },
  ],
};

/**
 * An experiment's typical audience rule: an `and` of comparisons (==, >, <) and a string operator,
 * then a `fractional` split of those who match.
 */
export const COMPOUND_RULE = {
  if: [
    {
      and: [
        { '==': [{ var: 'plan' }, 'pro'] },
        { '>': [{ var: 'age' }, 18] },
        { '<': [{ var: 'seats' }, 500] },
        { starts_with: [{ var: 'region' }, 'eu-'] },
      ],
    },
    {
      fractional: [
        ['control', 45],
        ['treatment', 45],
        ['holdout', 10],
      ],
    },
    'off',
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
    compound: {
      state: 'ENABLED',
      variants: { control: 'control', treatment: 'treatment', holdout: 'holdout', off: 'off' },
      defaultVariant: 'off',
      targeting: COMPOUND_RULE,
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

/**
 * 10,000 distinct users for the compound rule: about half pass the whole `and` (and so reach the
 * `fractional`); the rest fail at one of its comparisons, the later ones too.
 */
export function compoundUsers(count: number): {
  targetingKey: string;
  plan: string;
  age: number;
  seats: number;
  region: string;
}[] {
  return Array.from({ length: count }, (_, i) => ({
    targetingKey: `user-${i}`,
    plan: i % 8 === 0 ? 'free' : 'pro',
    age: 16 + (i % 50),
    seats: (i * 37) % 600,
    region: i % 5 === 0 ? 'us-east-1' : 'eu-west-1',
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
