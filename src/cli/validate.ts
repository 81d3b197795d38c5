import { Command, Option } from 'commander';
import type { SchemaName } from '../evaluator/index.js';
import { FAILURE_EXITS, runCommand } from './command.js';
import { readFlagFiles } from './flag-input.js';
import type { CliIo } from './io.js';
import { colorsFor } from './output.js';
import {
  validateMerged,
  validateText,
  type FileReport,
  type LocatedIssue,
} from './validate-file.js';

const HELP = `
Reports, for each file, every problem with its JSON path and line:column:
  errors    the configuration is refused whole (flagd, rampflag serve and the providers keep
            the previous one): missing or mistyped fields, a defaultVariant that is no variant,
            variants of mixed types, bad syntax
  warnings  flagd loads the file, but a rule cannot work as written: an unknown operator, a $ref
            to a missing shared evaluator, a variant named in the targeting that the flag does not
            have, a fractional whose weights add up to 0 or keyed by a misspelt targetingKey,
            misused sem_ver, starts_with, ends_with and $flagd properties
Several files are also checked together, merged as "rampflag serve" merges them.

Examples:
  rampflag validate flags.yaml
  rampflag validate --strict flags/*.yaml flags/*.json
  rampflag validate --json flags.json | jq '.files[].issues[]'

As a pre-commit hook (.git/hooks/pre-commit, executable):
  #!/bin/sh
  git diff --cached --name-only --diff-filter=ACM -- 'flags/*.yaml' | xargs -r npx rampflag validate --strict
or with pre-commit (.pre-commit-config.yaml):
  - repo: local
    hooks:
      - { id: rampflag-validate, name: validate flags, entry: npx rampflag validate --strict,
          language: system, files: '^flags/.*\\.(ya?ml|json)$' }
As a CI step (GitHub Actions):
  - run: npx rampflag validate --strict flags/*.yaml

Exit codes:
  0  no errors (warnings allowed, unless --strict)
  1  an error, a file that cannot be read, or (with --strict) a warning
  2  bad usage`;

function command(): Command {
  return new Command('rampflag validate')
    .usage('<files...> [options]')
    .description('check flag files: schema and semantic errors, and rules that cannot work')
    .argument('<files...>', 'flag files (JSON or YAML)')
    .option('--strict', 'warnings fail too (exit 1)')
    .addOption(
      new Option(
        '--schema <schema>',
        'hold every file to this schema, whatever its $schema says',
      ).choices(['flagd', 'flags']),
    )
    .option('--json', 'print the report as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

/** `file:line:column severity path: message`, as compilers and linters print. */
function issueLine(io: CliIo, origin: string, issue: LocatedIssue): string {
  const c = colorsFor(io);
  const where = issue.line === undefined ? origin : `${origin}:${issue.line}:${issue.column}`;
  const severity = issue.severity === 'error' ? c.red('error') : c.yellow('warning');
  return `${c.bold(where)} ${severity} ${issue.path || '(root)'}: ${issue.message} ${c.dim(`[${issue.rule}]`)}`;
}

const plural = (n: number, word: string) =>
  `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * `rampflag validate <files…>`: schema and semantic errors and warnings, with JSON paths and
 * line:column. Exit 0 when there is no error (and, with `--strict`, no warning), 1 otherwise, 2 on
 * bad usage.
 */
export function validate(args: readonly string[], io: CliIo): Promise<number> {
  return runCommand(command(), args, io, FAILURE_EXITS, (parsed) =>
    validateFiles(parsed.processedArgs[0] as string[], parsed.opts<Options>(), io),
  );
}

interface Options {
  readonly strict?: boolean;
  readonly schema?: SchemaName;
  readonly json?: boolean;
}

/** The report on `files`, printed; resolves with the exit code. */
async function validateFiles(files: readonly string[], opts: Options, io: CliIo): Promise<number> {
  const reports: FileReport[] = [];
  const unreadable: { origin: string; message: string }[] = [];
  const inputs = [];
  for (const file of files) {
    try {
      const [input] = await readFlagFiles([file]);
      if (input === undefined) continue;
      inputs.push(input);
      reports.push(validateText(file, input.text, opts.schema));
    } catch (error) {
      unreadable.push({ origin: file, message: (error as Error).message });
    }
  }
  const clean = reports.every((r) => r.issues.every((i) => i.severity !== 'error'));
  const merged = clean && unreadable.length === 0 ? validateMerged(inputs) : undefined;
  if (merged !== undefined && merged.issues.length > 0) reports.push(merged);
  const all = reports.flatMap((r) => r.issues);
  const errors = all.filter((i) => i.severity === 'error').length + unreadable.length;
  const warnings = all.length - (errors - unreadable.length);
  const failed = errors > 0 || (opts.strict === true && warnings > 0);
  const flags = reports.filter((r) => r !== merged).reduce((n, r) => n + r.flags, 0);
  if (opts.json === true) {
    io.stdout(
      JSON.stringify(
        {
          ok: !failed,
          strict: opts.strict === true,
          errors,
          warnings,
          flags,
          files: reports,
          unreadable,
        },
        null,
        2,
      ),
    );
    return failed ? 1 : 0;
  }
  for (const { origin, message } of unreadable)
    io.stdout(`${origin} ${colorsFor(io).red('error')} ${message}`);
  for (const report of reports)
    for (const issue of report.issues) io.stdout(issueLine(io, report.origin, issue));
  const c = colorsFor(io);
  const scope = `${plural(files.length, 'file')}, ${plural(flags, 'flag')}`;
  if (errors === 0 && warnings === 0) io.stdout(c.green(`✓ ${scope}: no problems`));
  else {
    const verdict = failed ? c.red('✗') : c.yellow('!');
    const strict = opts.strict === true && errors === 0 ? ' (--strict: warnings fail)' : '';
    io.stdout(
      `${verdict} ${scope}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${strict}`,
    );
  }
  return failed ? 1 : 0;
}
