import { parse as parseYaml, YAMLParseError } from 'yaml';
import { InvalidConfigurationError } from './errors.js';

/** @internal */
export interface TextLimits {
  readonly maxBytes: number;
}

const fail = (rule: string, message: string): never => {
  throw new InvalidConfigurationError([{ severity: 'error', path: '', rule, message }]);
};

/**
 * Parses configuration text: JSON when it starts with `{` or `[`, else YAML (as flagd converts
 * YAML sources). Size-limited; YAML aliases are capped by the YAML parser.
 * @internal
 */
export function parseConfigurationText(text: string, limits: TextLimits): unknown {
  if (text.length > limits.maxBytes) {
    fail('max-size', `configuration is ${text.length} bytes, over the limit of ${limits.maxBytes}`);
  }
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fail('syntax', `not valid JSON: ${(error as Error).message}`);
    }
  }
  if (first === undefined) return fail('syntax', 'configuration is empty');
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true });
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message : String(error);
    return fail('syntax', `not valid YAML: ${message}`);
  }
}
