import { describe, expect, it } from 'vitest';
import { compareSemVer, parseSemVer } from '../../src/evaluator/semver.js';
import { outcome } from './helpers.js';

const rule = (op: string) => ({ if: [{ sem_ver: [{ var: 'v' }, op, { var: 'w' }] }, 'yes', 'no'] });

describe('sem_ver', () => {
  it.each([
    ['1.0.0', '=', '1.0.0', 'yes'],
    ['1.0.0+build', '=', '1.0.0+other', 'yes'],
    ['v1.2.3', '=', 'V1.2.3', 'yes'],
    ['1', '=', '1.0.0', 'yes'],
    ['1.2', '=', '1.2.0', 'yes'],
    [1.2, '=', '1.2.0', 'yes'],
    [2, '>', '1.9.9', 'yes'],
    ['2.0.0-alpha', '<', '2.0.0', 'yes'],
    ['1.0.0-alpha', '<', '1.0.0-alpha.1', 'yes'],
    ['1.0.0-alpha.1', '<', '1.0.0-alpha.beta', 'yes'],
    ['1.0.0-beta.2', '<', '1.0.0-beta.11', 'yes'],
    ['1.0.0-rc.1', '<', '1.0.0', 'yes'],
    ['10.0.0', '>', '9.99.99', 'yes'],
    ['123456789012345678901.0.0', '>', '123456789012345678900.0.0', 'yes'],
    ['1.0.0', '!=', '1.0.1', 'yes'],
    ['1.0.1', '<=', '1.0.1', 'yes'],
    ['1.0.1', '>=', '1.0.2', 'no'],
    ['1.9.0', '^', '1.0.0', 'yes'],
    ['1.0.0', '^', '1.9.0', 'yes'],
    ['2.0.0', '^', '1.0.0', 'no'],
    ['1.2.9', '~', '1.2.0', 'yes'],
    ['1.3.0', '~', '1.2.0', 'no'],
  ])('%j %s %j → %s', (v, op, w, expected) => {
    expect(outcome(rule(op), { v, w })).toBe(expected);
  });

  it.each([
    ['not-a-version', '=', '1.0.0'],
    ['2.0.0.0', '=', '2.0.0'],
    ['01.0.0', '=', '1.0.0'],
    ['1.2-alpha', '=', '1.2.0'],
    [true, '=', '1.0.0'],
    [null, '=', '1.0.0'],
    ['1.0.0', '===', '1.0.0'],
    ['1.0.0', '*', '1.0.0'],
  ])('%j %s %j is null, so the default variant applies', (v, op, w) => {
    expect(outcome({ sem_ver: [{ var: 'v' }, op, { var: 'w' }] }, { v, w })).toBeNull();
    expect(outcome(rule(op), { v, w })).toBe('no');
  });

  it('is null with other than three arguments', () => {
    expect(outcome({ if: [{ sem_ver: ['1.0.0', '='] }, 'yes', 'no'] })).toBe('no');
    expect(outcome({ sem_ver: ['1.0.0', '='] })).toBeNull();
  });

  it('orders versions by SemVer precedence', () => {
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    const parsed = order.map((v) => parseSemVer(v));
    for (let i = 1; i < parsed.length; i++) {
      expect(compareSemVer(parsed[i - 1]!, parsed[i]!)).toBe(-1);
      expect(compareSemVer(parsed[i]!, parsed[i - 1]!)).toBe(1);
    }
  });
});
