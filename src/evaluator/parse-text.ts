import { parse as parseYaml, YAMLParseError } from 'yaml';
import { InvalidConfigurationError } from './errors.js';
import { objectProblem, parseJsonText, type JsonTextError } from './json-limits.js';
import { yamlDepth } from './yaml-depth.js';
import { scanConfigurationJson, type FlagTexts } from './flag-texts.js';

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
): { doc: unknown; flags?: FlagTexts | undefined } {
  if (text.length > limits.maxBytes) {
    fail('max-size', `configuration is ${text.length} bytes, over the limit of ${limits.maxBytes}`);
  }
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      if (!withFlags) return { doc: parseJsonText(text, limits) };
      const scanned = scanConfigurationJson(text);
      return { doc: parseJsonText(text, limits, scanned.depth), flags: scanned.flags };
    } catch (error) {
      const { rule, message, path } = error as JsonTextError;
      return fail(rule, rule === 'syntax' ? message : `configuration is ${message}`, path);
    }
  }
  if (first === undefined) return fail('syntax', 'configuration is empty');
  return { doc: parseYamlText(text, Math.min(limits.maxDepth, MAX_YAML_DEPTH)) };
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
