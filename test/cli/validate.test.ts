import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import { flagChecks } from '../../src/cli/flag-checks.js';
import { locatorFor, pathSegments } from '../../src/cli/json-location.js';
import { main } from '../../src/cli/main.js';
import { validate } from '../../src/cli/validate.js';
import { validateText } from '../../src/cli/validate-file.js';
import { fakeIo } from '../support/cli-io.js';
import { scratchDir } from '../support/scratch.js';
import { describeWithData, testbedDir } from '../support/shared-data.js';

const scratch = scratchDir('cli-validate');
const { dir } = scratch;
const file = (text: string, ext = 'yaml') => scratch.file(`flags.${ext}`, text);

async function run(...args: string[]) {
  const { io, out, err } = fakeIo();
  const code = await validate(args, io);
  return { code, out, err, text: out.join('\n') };
}

/** The text written at line:column (1-based) of `text`. */
const at = (text: string, line: number, column: number) =>
  (text.split('\n')[line - 1] ?? '').slice(column - 1);

const BAD_DEFAULT = `flags:
  checkout:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "of"
`;

/** One flag per warning flagd loads anyway, in YAML. */
const WARNINGS = `$evaluators:
  rings: { "in": [{ "var": "ring" }, ["internal"]] }
flags:
  typo:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      if:
        - { "$ref": "rings" }
        - "onn"
        - null
  zero:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting: { "fractional": [["on", 0], ["off", 0]] }
  unknown-op:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting: { "if": [{ "regex": [{ "var": "email" }, ".*"] }, "on", "off"] }
  missing-ref:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting: { "$ref": "nope" }
  key-typo:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting: { "fractional": [{ "var": "targetingkey" }, ["on", 50], ["off", 50]] }
`;

describe('rampflag validate', () => {
  it('names an error by file:line:column, severity and JSON path, and exits 1', async () => {
    const path = file(BAD_DEFAULT);
    const { code, out } = await run(path);
    expect(code).toBe(1);
    expect(out[0]).toBe(
      `${path}:5:5 error flags.checkout.defaultVariant: "of" is not a variant (on, off) [default-variant]`,
    );
    expect(at(BAD_DEFAULT, 5, 5)).toMatch(/^defaultVariant: "of"/);
    expect(out.at(-1)).toBe('✗ 1 file, 1 flag: 1 error, 0 warnings');
  });

  it('warns about rules flagd loads but that cannot work, each where it is written', async () => {
    const path = file(WARNINGS);
    const { code, out } = await run(path);
    expect(code).toBe(0);
    const lines = out.slice(0, -1);
    const found = lines.map((line) => {
      const [, l, c, rule] = /:(\d+):(\d+) warning .*\[(.+)\]$/.exec(line) ?? [];
      return [rule, at(WARNINGS, Number(l), Number(c)).slice(0, 16)];
    });
    expect(found).toEqual([
      ['unknown-variant', '"onn"'],
      ['fractional-zero-total', '"fractional": [['],
      ['unknown-operator', '{ "regex": [{ "v'],
      ['unknown-ref', '"$ref": "nope" }'],
      ['fractional-targeting-key', '{ "var": "target'],
    ]);
    expect(lines[0]).toContain('flags.typo.targeting.if[1]: "onn" is not a variant (on, off)');
    expect(out.at(-1)).toBe('! 1 file, 5 flags: 0 errors, 5 warnings');
  });

  it('fails on warnings with --strict', async () => {
    const { code, out } = await run('--strict', file(WARNINGS));
    expect(code).toBe(1);
    expect(out.at(-1)).toMatch(/0 errors, 5 warnings \(--strict: warnings fail\)$/);
  });

  it('tells the truth in its warnings: the evaluator fails or falls back where they say', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration(WARNINGS);
    const internal = { targetingKey: 'u1', ring: 'internal' };
    expect(evaluator.resolveBoolean('typo', false, internal).errorCode).toBe('GENERAL');
    for (let i = 0; i < 50; i++)
      expect(evaluator.resolveBoolean('zero', true, { targetingKey: `u${i}` })).toMatchObject({
        variant: 'off',
        reason: 'DEFAULT',
      });
    expect(evaluator.resolveBoolean('unknown-op', false, internal).errorCode).toBe('PARSE_ERROR');
    expect(evaluator.resolveBoolean('missing-ref', false, internal).errorCode).toBe('PARSE_ERROR');
  });

  it('locates issues in JSON files too, and in the array form', async () => {
    const text = JSON.stringify(
      {
        flags: [
          { key: 'a', state: 'ENABLED', variants: { x: 1 }, defaultVariant: 'x' },
          { key: 'b', state: 'ON', variants: { x: 1 }, defaultVariant: 'x' },
        ],
      },
      null,
      2,
    );
    const path = file(text, 'json');
    const { code, out } = await run(path);
    expect(code).toBe(1);
    const [, l, c] = /:(\d+):(\d+) error flags\[1\]\.state: /.exec(out[0] ?? '') ?? [];
    expect(at(text, Number(l), Number(c))).toBe('"state": "ON",');
  });

  it.each([
    ['JSON', '{\n  "flags": {\n    "a": 1,\n  }\n}\n', 'json', 4, 3],
    ['YAML', 'flags:\n  a: [1\n  b: 2\n', 'yaml', 3, 3],
  ])('puts a %s syntax error where the text stops parsing', async (_, text, ext, line, column) => {
    const path = file(text, ext);
    const { code, out } = await run(path);
    expect(code).toBe(1);
    expect(out[0]).toMatch(new RegExp(`^${path}:${line}:${column} error \\(root\\): not valid`));
    expect(out[0]).not.toContain('\n');
  });

  it('reports nothing for valid files, checked together as serve merges them', async () => {
    const a = file('flags:\n  a: { state: ENABLED, variants: { x: 1 }, defaultVariant: x }\n');
    const b = file('{"flags": {"b": {"state": "DISABLED", "variants": {"y": "Y"}}}}', 'json');
    const { code, out } = await run(a, b);
    expect(code).toBe(0);
    expect(out).toEqual(['✓ 2 files, 2 flags: no problems']);
  });

  it('counts a file it cannot read as an error', async () => {
    const { code, out } = await run(join(dir, 'missing.yaml'), file(BAD_DEFAULT));
    expect(code).toBe(1);
    expect(out[0]).toMatch(/missing\.yaml error cannot read .*: ENOENT/);
    expect(out.at(-1)).toBe('✗ 2 files, 1 flag: 2 errors, 0 warnings');
  });

  it('prints JSON for programs', async () => {
    const path = file(BAD_DEFAULT);
    const { code, out } = await run('--json', path, file(WARNINGS));
    expect(code).toBe(1);
    const report = JSON.parse(out.join('\n')) as {
      ok: boolean;
      errors: number;
      warnings: number;
      files: { origin: string; issues: { line: number; column: number; path: string }[] }[];
    };
    expect(report).toMatchObject({ ok: false, errors: 1, warnings: 5 });
    expect(report.files[0]).toMatchObject({
      origin: path,
      issues: [
        {
          severity: 'error',
          path: 'flags.checkout.defaultVariant',
          line: 5,
          column: 5,
          rule: 'default-variant',
        },
      ],
    });
  });

  it('exits 2 without files, and 0 for --help with examples for hooks and CI', async () => {
    expect((await run()).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.text).toMatch(/pre-commit/);
    expect(help.text).toMatch(/rampflag validate --strict/);
    expect(help.text).toMatch(/Exit codes:\n {2}0 {2}no errors/);
  });

  it('is a rampflag command', async () => {
    const { io, out } = fakeIo();
    expect(await main(['validate', file(BAD_DEFAULT)], io)).toBe(1);
    expect(out[0]).toMatch(/:5:5 error flags\.checkout\.defaultVariant/);
  });
});

describe('flag checks', () => {
  const flag = (targeting: unknown) => ({
    flags: {
      f: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting },
    },
  });

  it('follows what and/or can return, not their conditions', () => {
    expect(flagChecks(flag({ and: [true, 'on'] }))).toEqual([]);
    expect(flagChecks(flag({ or: [false, 'on'] }))).toEqual([]);
    expect(flagChecks(flag({ or: ['maybe', 'on'] })).map((i) => i.path)).toEqual([
      'flags.f.targeting.or[0]',
    ]);
  });

  it('checks the variants of fractional buckets and of shared evaluators per flag', () => {
    const doc = {
      $evaluators: {
        split: {
          fractional: [
            ['on', 1],
            ['of', 1],
          ],
        },
      },
      ...flag({ $ref: 'split' }),
    };
    expect(flagChecks(doc)).toMatchObject([
      {
        path: '$evaluators.split.fractional[1][0]',
        rule: 'unknown-variant',
        message: expect.stringMatching(/^flag "f": "of"/),
      },
    ]);
  });

  it('walks each shared evaluator once, however often a chain of them uses the previous one', () => {
    const $evaluators: Record<string, unknown> = {
      e0: {
        fractional: [
          ['on', 1],
          ['of', 1],
        ],
      },
    };
    for (let i = 1; i < 60; i++)
      $evaluators[`e${i}`] = { if: [{ var: 'x' }, { $ref: `e${i - 1}` }, { $ref: `e${i - 1}` }] };
    const started = Date.now();
    const issues = flagChecks({ $evaluators, ...flag({ $ref: 'e59' }) });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(issues.map((i) => i.path)).toEqual(['$evaluators.e0.fractional[1][0]']);
  });

  it('warns about a fractional without buckets', () => {
    expect(flagChecks(flag({ fractional: [{ var: 'email' }] }))).toMatchObject([
      { rule: 'fractional-empty' },
    ]);
  });
});

describe('locations', () => {
  it('reads the paths the evaluator writes', () => {
    expect(pathSegments('flags["new-ui"].targeting.if[0]')).toEqual([
      'flags',
      'new-ui',
      'targeting',
      'if',
      0,
    ]);
    expect(pathSegments('$evaluators.rings')).toEqual(['$evaluators', 'rings']);
    expect(pathSegments('flags[')).toBeUndefined();
  });

  it('points at the nearest ancestor of something missing', () => {
    const text = 'flags:\n  a:\n    variants: { x: 1 }\n';
    expect(locatorFor(text).at('flags.a.state')).toEqual({ line: 2, column: 3 });
    expect(validateText('f.yaml', text).issues).toMatchObject([
      { path: 'flags.a.state', line: 2, column: 3 },
    ]);
  });
});

describeWithData(testbedDir, "flagd-testbed's flag files", () => {
  const flagsDir = join(testbedDir as string, 'flags');
  const issuesOf = (name: string) =>
    validateText(name, readFileSync(join(flagsDir, name), 'utf8')).issues;
  const flagOf = (path: string) => /^flags\["?([^"\]]+)"?\]/.exec(path)?.[1];

  it('load without errors', () => {
    for (const name of readdirSync(flagsDir).filter((f) => f.endsWith('.json')))
      expect(issuesOf(name).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('warn about the edge cases the testbed expects to fail or fall back, and no others', () => {
    const warned = issuesOf('edge-case-flags.json').map((i) => [flagOf(i.path), i.rule]);
    expect(warned).toContainEqual(['missing-variant-targeting-flag', 'unknown-variant']);
    expect(warned).toContainEqual(['fractional-zero-weights-flag', 'fractional-zero-total']);
    expect(warned).toContainEqual(['error-targeting-flag', 'unknown-operator']);
    expect(issuesOf('testing-flags.json')).toEqual([]);
  });
});
