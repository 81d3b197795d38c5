/**
 * The flags the streaming-source tests serve: `color` (static, the given value) and `aware`
 * (INTERNAL only when the sync context carries injectedmetadata=set, as in the flagd testbed).
 */
export const syncFlags = (color: string) => ({
  flags: {
    color: { state: 'ENABLED', variants: { c: color, x: 'x' }, defaultVariant: 'c' },
    aware: {
      state: 'ENABLED',
      variants: { internal: 'INTERNAL', external: 'EXTERNAL' },
      defaultVariant: 'external',
      targeting: { if: [{ '==': [{ var: 'injectedmetadata' }, 'set'] }, 'internal', null] },
    },
  },
});
