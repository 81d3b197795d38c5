type Json = Record<string, unknown>;

/** A boolean flag (variants on and off), off by default, with `targeting` when given and `extra`. */
export const boolFlag = (targeting?: unknown, extra: Json = {}): Json => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  ...(targeting === undefined ? {} : { targeting }),
  ...extra,
});

/** A fractional giving `on` to `on` % of subjects and `off` to the rest. */
export const percent = (on: number) => ({
  fractional: [
    ['on', on],
    ['off', 100 - on],
  ],
});
