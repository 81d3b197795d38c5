import { describe, expect, it } from 'vitest';
import { inFormatOf, isYamlText, jsonStyleOf } from '../../src/sources/keep-format.js';

describe('keep-format', () => {
  it.each([
    ['{\n  "a": 1\n}\n', { indent: '  ', eol: '\n', finalNewline: true }],
    ['{\n    "a": 1\n}', { indent: '    ', eol: '\n', finalNewline: false }],
    ['{\n\t"a": 1\n}\n', { indent: '\t', eol: '\n', finalNewline: true }],
    ['{"a":1}', { indent: '', eol: '\n', finalNewline: false }],
    ['{\r\n  "a": 1\r\n}\r\n', { indent: '  ', eol: '\r\n', finalNewline: true }],
  ])('reads the layout of %j', (text, style) => {
    expect(jsonStyleOf(text)).toEqual(style);
  });

  it('keeps Windows line endings', () => {
    expect(inFormatOf('{\r\n  "a": 1\r\n}\r\n', '{"a":[2]}')).toBe(
      '{\r\n  "a": [\r\n    2\r\n  ]\r\n}\r\n',
    );
  });

  it('tells YAML from JSON as flagd does, and an empty file by its name', () => {
    expect(isYamlText('flags: {}')).toBe(true);
    expect(isYamlText('  {"flags": {}}')).toBe(false);
    expect(isYamlText('', 'f.yaml')).toBe(true);
    expect(isYamlText('', 'f.json')).toBe(false);
  });

  it('quotes a YAML scalar whose type changed, so it reads back as written', () => {
    const text = inFormatOf('a: 1 # one\nb: "x"\n', '{"a":"1","b":true}');
    expect(text).toBe('a: "1" # one\nb: true\n');
  });

  it('replaces an alias it cannot edit in place, and keeps its anchor', () => {
    const text = inFormatOf('base: &v { x: 1 }\nuse: *v\n', '{"base":{"x":1},"use":{"x":2}}');
    expect(text).toBe('base: &v { x: 1 }\nuse:\n  x: 2\n');
  });

  it('writes `__proto__` as a plain key, never through a prototype', () => {
    const text = inFormatOf('a: 1\n', '{"a":1,"__proto__":{"polluted":true}}');
    expect(text).toBe('a: 1\n__proto__:\n  polluted: true\n');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['w: [ "on", 1 ] # one\n', '{"w":["on",5]}', 'w: [ "on", 5 ] # one\n'],
    ["s: 'it''s'\n", '{"s":"it\'s ok"}', "s: 'it''s ok'\n"],
    ['s: "a"\nt: plain\n', '{"s":"b","t":"other words"}', 's: "b"\nt: other words\n'],
    ['n: 1\nm: { x: 2 }   # keep\n', '{"n":1.5,"m":{"x":3}}', 'n: 1.5\nm: { x: 3 }   # keep\n'],
  ])(
    'rewrites only the scalars that changed, in their own style: %j',
    (previous, next, expected) => {
      expect(inFormatOf(previous, next)).toBe(expected);
    },
  );

  it('rewrites only the changed scalars of JSON in place, inline objects and all', () => {
    const previous =
      '{\n  "flags": {\n    "a": { "variants": { "on": true, "off": false }, "defaultVariant": "off" }\n  }\n}\n';
    const next = '{"flags":{"a":{"variants":{"on":true,"off":false},"defaultVariant":"on"}}}';
    expect(inFormatOf(previous, next)).toBe(
      previous.replace('"defaultVariant": "off"', '"defaultVariant": "on"'),
    );
    // a change of structure is rendered whole, in the file's indentation
    expect(inFormatOf('{\n  "a": { "x": 1 }\n}\n', '{"a":{"x":1,"y":2}}')).toBe(
      '{\n  "a": {\n    "x": 1,\n    "y": 2\n  }\n}\n',
    );
  });

  it('replaces YAML that does not parse, rather than failing the write', () => {
    expect(inFormatOf('a: [1\n', '{"a":2}')).toBe('a: 2\n');
  });
});
