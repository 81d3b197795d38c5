import { ErrorCode } from '@openfeature/core';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';

const config = {
  metadata: { flagSetId: 'checkout', version: '7', team: 'payments' },
  flags: {
    static: {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'on',
      metadata: { team: 'web' },
    },
    disabled: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'no-default': { state: 'ENABLED', variants: { a: 'A', b: 'B' } },
    'null-default': { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: null },
    'empty-default': {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: '',
      source: 'file:flags.json',
    },
    targeted: {
      state: 'ENABLED',
      variants: { a: 'A', b: 'B' },
      defaultVariant: 'a',
      targeting: { if: [{ '==': [{ var: 'tier' }, 'gold'] }, 'b', null] },
    },
    'targeted-no-default': {
      state: 'ENABLED',
      variants: { a: 'A' },
      targeting: { if: [{ '==': [{ var: 'tier' }, 'gold'] }, 'a', null] },
    },
    boolean: {
      state: 'ENABLED',
      variants: { true: 'yes', false: 'no' },
      defaultVariant: 'false',
      targeting: { '==': [{ var: 'x' }, 1] },
    },
    numeric: {
      state: 'ENABLED',
      variants: { '1': 'one', '2': 'two' },
      defaultVariant: '1',
      targeting: { '+': [1, 1] },
    },
    missing: {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: 'a',
      targeting: { cat: ['zz', 'top'] },
    },
    'returns-object': {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: 'a',
      targeting: { merge: [[1], [2]] },
    },
    unknown: {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: 'a',
      targeting: { nope: [1] },
    },
    'bad-ref': {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: 'a',
      targeting: { $ref: 'ghost' },
    },
    throws: {
      state: 'ENABLED',
      variants: { a: 'A' },
      defaultVariant: 'a',
      targeting: { '*': [] },
    },
    ints: {
      state: 'ENABLED',
      variants: { ten: 10, half: 0.5 },
      defaultVariant: 'ten',
      targeting: { if: [{ var: 'half' }, 'half', null] },
    },
    object: {
      state: 'ENABLED',
      variants: { cfg: { color: 'red', sizes: [1, 2] } },
      defaultVariant: 'cfg',
    },
  },
};

const evaluator = createEvaluator();
evaluator.setConfiguration(config);
const setMetadata = { flagSetId: 'checkout', version: '7', team: 'payments' };

describe('resolution', () => {
  it('returns STATIC with the default variant when there is no targeting', () => {
    expect(evaluator.resolveBoolean('static', false)).toEqual({
      value: true,
      variant: 'on',
      reason: 'STATIC',
      flagMetadata: { ...setMetadata, team: 'web' },
    });
  });

  it('returns FLAG_NOT_FOUND with the flag-set metadata', () => {
    expect(evaluator.resolveString('nope', 'dflt')).toMatchObject({
      value: 'dflt',
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
      flagMetadata: setMetadata,
    });
  });

  it('returns DISABLED as a success with no variant and the caller default', () => {
    const result = evaluator.resolveBoolean('disabled', false);
    expect(result).toEqual({ value: false, reason: 'DISABLED', flagMetadata: setMetadata });
  });

  it.each(['no-default', 'null-default', 'empty-default'])(
    '%s: no default variant gives the code default with DEFAULT',
    (key) => {
      const result = evaluator.resolveString(key, 'code');
      expect(result).toEqual({ value: 'code', reason: 'DEFAULT', flagMetadata: setMetadata });
    },
  );

  it('returns TARGETING_MATCH for a variant named by targeting', () => {
    expect(evaluator.resolveString('targeted', '', { tier: 'gold' })).toMatchObject({
      value: 'B',
      variant: 'b',
      reason: 'TARGETING_MATCH',
    });
  });

  it('returns the default variant with DEFAULT when targeting gives null', () => {
    expect(evaluator.resolveString('targeted', '', { tier: 'tin' })).toMatchObject({
      value: 'A',
      variant: 'a',
      reason: 'DEFAULT',
    });
    expect(evaluator.resolveString('targeted-no-default', 'code', {})).toEqual({
      value: 'code',
      reason: 'DEFAULT',
      flagMetadata: setMetadata,
    });
  });

  it('maps boolean and number results to variant names', () => {
    expect(evaluator.resolveString('boolean', '', { x: 1 })).toMatchObject({
      value: 'yes',
      variant: 'true',
    });
    expect(evaluator.resolveString('boolean', '', { x: 2 })).toMatchObject({
      value: 'no',
      variant: 'false',
      reason: 'TARGETING_MATCH',
    });
    expect(evaluator.resolveString('numeric', '')).toMatchObject({ value: 'two', variant: '2' });
  });

  it.each([
    ['missing', ErrorCode.GENERAL, /returned variant "zztop"/],
    ['returns-object', ErrorCode.GENERAL, /returned a array/],
    ['unknown', ErrorCode.PARSE_ERROR, /unknown operator "nope"/],
    ['bad-ref', ErrorCode.PARSE_ERROR, /unknown shared evaluator "ghost"/],
    ['throws', ErrorCode.PARSE_ERROR, /targeting of flag "throws" failed/],
  ])('%s → ERROR %s', (key, code, message) => {
    const result = evaluator.resolveString(key, 'dflt');
    expect(result).toMatchObject({
      value: 'dflt',
      reason: 'ERROR',
      errorCode: code,
      flagMetadata: setMetadata,
    });
    expect(result.errorMessage).toMatch(message);
  });

  it('returns TYPE_MISMATCH with the caller default and the metadata', () => {
    const result = evaluator.resolveNumber('static', 3);
    expect(result).toMatchObject({
      value: 3,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
      flagMetadata: { team: 'web' },
    });
    expect(evaluator.resolveBoolean('object', false).errorCode).toBe(ErrorCode.TYPE_MISMATCH);
    expect(evaluator.resolveObject('targeted', {}).errorCode).toBe(ErrorCode.TYPE_MISMATCH);
  });

  it('checks integers losslessly and accepts any number as a number', () => {
    expect(evaluator.resolveInteger('ints', 0)).toMatchObject({ value: 10, reason: 'DEFAULT' });
    expect(evaluator.resolveInteger('ints', 0, { half: true }).errorCode).toBe(
      ErrorCode.TYPE_MISMATCH,
    );
    expect(evaluator.resolveNumber('ints', 0, { half: true })).toMatchObject({
      value: 0.5,
      reason: 'TARGETING_MATCH',
    });
  });

  it('resolves objects, and their values cannot be changed by a caller', () => {
    const { value } = evaluator.resolveObject('object', {});
    expect(value).toEqual({ color: 'red', sizes: [1, 2] });
    expect(() => {
      (value as { color: string }).color = 'blue';
    }).toThrow(TypeError);
    expect(evaluator.resolveObject('object', {}).value).toEqual({ color: 'red', sizes: [1, 2] });
  });

  it('never throws, whatever the context', () => {
    const contexts = [
      undefined,
      {},
      { tier: null },
      { tier: { nested: [1] } },
      Object.create(null) as object,
    ];
    for (const key of [...evaluator.flagKeys(), 'absent']) {
      for (const context of contexts) {
        expect(() => evaluator.resolveString(key, '', context)).not.toThrow();
      }
    }
  });

  it('resolves any type with resolveValue, as the typed resolvers do', () => {
    expect(evaluator.resolveValue('object', {})).toEqual(evaluator.resolveObject('object', {}));
    expect(evaluator.resolveValue('targeted', { tier: 'gold' })).toEqual(
      evaluator.resolveString('targeted', '', { tier: 'gold' }),
    );
    expect(evaluator.resolveValue('disabled')).toEqual({
      value: undefined,
      reason: 'DISABLED',
      flagMetadata: setMetadata,
    });
    expect(evaluator.resolveValue('unknown').errorCode).toBe(ErrorCode.PARSE_ERROR);
  });

  it('exposes the flag-set metadata', () => {
    expect(evaluator.metadata).toEqual(setMetadata);
  });

  it('keeps $flagd.flagKey right when a logger evaluates another flag mid-evaluation', () => {
    let inner: unknown;
    const reentrant = createEvaluator({
      logger: {
        error() {},
        warn() {},
        info() {},
        debug: () => {
          inner ??= reentrant.resolveString('other', '', {}).value;
        },
      },
    });
    const byKey = { if: [{ '==': [{ var: '$flagd.flagKey' }, 'outer'] }, 'a', 'b'] };
    reentrant.setConfiguration({
      flags: {
        // starts_with on a number logs at debug level before $flagd.flagKey is read
        outer: {
          state: 'ENABLED',
          variants: { a: 'A', b: 'B' },
          targeting: { or: [{ starts_with: [1, 'x'] }, byKey] },
        },
        other: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, targeting: byKey },
      },
    });
    expect(reentrant.resolveString('outer', '', {}).value).toBe('A');
    expect(inner).toBe('B');
  });
});
