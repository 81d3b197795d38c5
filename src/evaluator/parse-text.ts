import { parse as parseYaml, YAMLParseError } from 'yaml';
import { InvalidConfigurationError } from './errors.js';
import { objectProblem, parseJsonText, type JsonTextError } from './json-limits.js';
import { yamlDepth } from './yaml-depth.js';
import { scanConfigurationJson, type FlagTexts } from './flag-texts.js';
import { isObject } from './json-path.js';

/**
 * {@link FlagTexts} of a parsed configuration. With `read`, the document's `flags` holds `0` for
 * each flag, and `read` parses a flag's text (throwing the whole document's error if it is not
 * JSON): each flag is parsed, and dropped, on its own. @internal
 */
export interface ReadFlagTexts {
  readonly found: FlagTexts;
  readonly read?: (text: string) => unknown;
  /** The map form's keys, when the document's `flags` is `{}` (its keys were read from the text). */
  readonly keys?: readonly string[];
}

/** @internal */
export interface TextLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/**
 * The deepest YAML the `yaml` package composes without overflowing the stack, with a wide margin
 * (it overflows between 800 and 1,000 levels): deeper YAML is refused whatever `maxDepth` says.
 * @internal
 */
export const MAX_YAML_DEPTH = 256;

const fail = (rule: string, message: string, path = ''): never => {
  throw new InvalidConfigurationError([{ severity: 'error', path, rule, message }]);
};

/**
 * Parses configuration text: JSON when it starts with `{` or `[`, else YAML (as flagd converts
 * YAML sources). Size- and depth-limited, the depth measured before parsing (so a hostile text
 * nested 100,000 deep never reaches a recursive parser); YAML aliases are capped by the YAML parser.
 * @internal
 */
export function parseConfigurationText(text: string, limits: TextLimits): unknown {
  return parseConfiguration(text, limits, false).doc;
}

/**
 * {@link parseConfigurationText}, with where each flag's text is when the text is JSON (found in
 * the same pass that measures its depth). @internal
 */
export function parseConfiguration(
  text: string,
  limits: TextLimits,
  withFlags = true,
): { doc: unknown; flags?: ReadFlagTexts | undefined } {
  if (text.length > limits.maxBytes) {
    fail('max-size', `configuration is ${text.length} bytes, over the limit of ${limits.maxBytes}`);
  }
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    if (!withFlags) return { doc: parseJson(text, limits) };
    const scanned = scanConfigurationJson(text);
    const whole = () => parseJson(text, limits, scanned.depth);
    const found = scanned.flags;
    if (found === undefined || found.count === 0)
      return { doc: whole(), flags: found && { found } };
    if (scanned.depth > limits.maxDepth) whole(); // refused, with the path in the whole text
    const read = (flag: string) => parseFlag(flag, whole);
    const { span } = found;
    const keys = span.checked && !found.indexLike ? found.keys() : undefined;
    if (keys !== undefined) {
      // the flags' keys and punctuation are JSON (the scan checked them), and none is repeated:
      // the document is parsed with `{}` for its flags, and each flag's value when it is read
      let doc: unknown;
      try {
        doc = JSON.parse(text.slice(0, span.open) + '{}' + text.slice(span.close + 1));
      } catch {
        return { doc: whole(), flags: { found } }; // throws
      }
      return { doc, flags: { found, read, keys } };
    }
    // the document with each flag written as `0`: a flag is parsed when it is read. Where the
    // skeleton or a flag is not JSON, the whole text is parsed for the error JSON.parse gives it
    // (the skeleton and every flag being JSON, the whole text is: each `0` stands for a value)
    let skeleton: unknown;
    try {
      skeleton = JSON.parse(withoutFlags(text, found.bounds()));
    } catch {
      return { doc: whole(), flags: { found } }; // throws
    }
    // a repeated key: the value JSON.parse drops must be JSON too, so the text is parsed whole
    // (as it is if the skeleton's flags are not what the scan found, which the scan rules out)
    const parsed = isObject(skeleton) ? skeleton['flags'] : undefined;
    let members = -1;
    if (found.mapForm && isObject(parsed)) members = Object.keys(parsed).length;
    if (!found.mapForm && Array.isArray(parsed)) members = parsed.length;
    if (members !== found.count) return { doc: whole(), flags: { found } };
    return { doc: skeleton, flags: { found, read } };
  }
  if (first === undefined) return fail('syntax', 'configuration is empty');
  return { doc: parseYamlText(text, Math.min(limits.maxDepth, MAX_YAML_DEPTH)) };
}

/** {@link parseJsonText} with its errors as the configuration's. */
function parseJson(text: string, limits: TextLimits, depth?: number): unknown {
  try {
    return parseJsonText(text, limits, depth);
  } catch (error) {
    const { rule, message, path } = error as JsonTextError;
    return fail(rule, rule === 'syntax' ? message : `configuration is ${message}`, path);
  }
}

/** `text` with each of the ranges in `bounds` (start, end pairs, in order) written as `0`. */
function withoutFlags(text: string, bounds: readonly number[]): string {
  let out = text.slice(0, bounds[0]);
  for (let b = 1; b < bounds.length - 1; b += 2) out += '0' + text.slice(bounds[b], bounds[b + 1]);
  return out + '0' + text.slice(bounds[bounds.length - 1]);
}

/**
 * One flag's text parsed; when it is not JSON, `refuse` throws the error `JSON.parse` gives for
 * the whole document (the error and its position are the same as if it had been parsed whole).
 */
function parseFlag(text: string, refuse: () => unknown): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    refuse();
    throw new Error("a flag's text is not JSON, yet its document is"); // cannot happen
  }
}

function parseYamlText(text: string, maxDepth: number): unknown {
  const depth = yamlDepth(text);
  if (depth > maxDepth) {
    fail(
      'max-depth',
      `configuration is nested ${depth} levels deep, over the limit of ${maxDepth}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true });
  } catch (error) {
    if (error instanceof RangeError || /call stack/i.test((error as Error).message))
      return fail('max-depth', `configuration is nested too deeply to parse as YAML`);
    const message = error instanceof YAMLParseError ? error.message : String(error);
    return fail('syntax', `not valid YAML: ${message}`);
  }
  // Aliases can share (and, anchored inside themselves, cycle): measured as a JSON copy would be.
  const problem = objectProblem(doc, maxDepth, Number.MAX_SAFE_INTEGER);
  if (problem !== undefined) fail(problem.rule, `configuration: ${problem.message}`);
  return doc;
}
