import type { EvaluationResult } from '../evaluator/index.js';
import { weightRows, type ExplainedEvaluation } from './eval-explain.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';

/** The resolution, for people: value, variant, reason, error, metadata. */
export function resultLines(
  io: CliIo,
  key: string,
  origin: string,
  result: EvaluationResult<unknown>,
): string[] {
  const c = colorsFor(io);
  const row = (name: string, value: string) => `  ${name.padEnd(9)} ${value}`;
  const lines = [`${c.bold(key)}  ${c.dim(`(${origin})`)}`];
  lines.push(
    row(
      'value',
      result.value === undefined
        ? "none (the caller's default value)"
        : JSON.stringify(result.value),
    ),
  );
  if (result.variant !== undefined) lines.push(row('variant', result.variant));
  lines.push(row('reason', result.reason === 'ERROR' ? c.red(result.reason) : result.reason));
  if (result.errorCode !== undefined)
    lines.push(row('error', c.red(`${result.errorCode}: ${result.errorMessage ?? ''}`)));
  const metadata = Object.entries(result.flagMetadata).map(
    ([k, v]) => `${k} = ${JSON.stringify(v)}`,
  );
  if (metadata.length > 0) lines.push(row('metadata', metadata.join(', ')));
  return lines;
}

/** The explanation, for people: the rule path, then each fractional and its flip point. */
export function explainLines(io: CliIo, explained: ExplainedEvaluation): string[] {
  const c = colorsFor(io);
  const lines = ['', c.bold('rule path (innermost first)')];
  if (explained.steps.length === 0) lines.push('  no targeting evaluated');
  else
    lines.push(
      table(
        io,
        ['step', 'operator', 'rule', 'value'],
        explained.steps
          .slice(0, 500)
          .map((s) => [s.path, s.operator, s.rule, JSON.stringify(s.result) ?? 'undefined']),
      ),
    );
  for (const f of explained.fractional) {
    lines.push('', c.bold(`fractional at ${f.path}`));
    const how =
      f.keySource === 'rule' ? "the rule's bucketing expression" : 'flag key + targetingKey';
    lines.push(`  bucketing key  ${JSON.stringify(f.bucketingKey)} (${how})`);
    lines.push(
      `  MurmurHash3    ${f.hash.toLocaleString('en-US')} (x86 32-bit, seed 0; position ${f.flip.position.toFixed(6)})`,
    );
    lines.push(
      `  bucket         floor(${f.hash} × ${f.totalWeight} / 2^32) = ${f.bucket.toLocaleString('en-US')} of ${f.totalWeight.toLocaleString('en-US')} → ${JSON.stringify(f.variant)}`,
    );
    lines.push(table(io, ['variant', 'weight', 'share', 'buckets', ''], weightRows(f)));
    lines.push(c.bold(f.sentence));
  }
  for (const note of explained.notes) lines.push(c.yellow(`note: ${note}`));
  return lines;
}
