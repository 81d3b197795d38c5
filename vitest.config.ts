import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Examples and tests import the package by name, as users do; this maps it to the sources.
const alias = {
  'rampflag/evaluator': fileURLToPath(new URL('./src/evaluator/index.ts', import.meta.url)),
  'rampflag/otel': fileURLToPath(new URL('./src/hooks/index.ts', import.meta.url)),
  'rampflag/grpc': fileURLToPath(new URL('./src/grpc/index.ts', import.meta.url)),
  'rampflag/server': fileURLToPath(new URL('./src/server/index.ts', import.meta.url)),
  'rampflag/rollout': fileURLToPath(new URL('./src/rollout/index.ts', import.meta.url)),
  'rampflag/experiment': fileURLToPath(new URL('./src/experiment/index.ts', import.meta.url)),
  rampflag: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts', 'examples/**/*.test.ts'] },
      },
      {
        // The evaluator suites again, in processes where V8 itself refuses to generate code from
        // strings: eval, new Function and every other route to the Function constructor (such as
        // `(() => 0).constructor`) throw EvalError. test/evaluator/no-dynamic-code.test.ts proves
        // the flag is in force.
        extends: true,
        test: {
          name: 'no-eval',
          include: ['test/evaluator/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          // these evaluate in `rampflag serve` child processes, which the flag does not reach
          exclude: ['test/conformance/in-process-*.test.ts', 'test/conformance/rpc-*.test.ts'],
          pool: 'forks',
          execArgv: ['--disallow-code-generation-from-strings'],
          env: { RAMPFLAG_NO_DYNAMIC_CODE: '1' },
          setupFiles: ['test/support/no-dynamic-code.ts'],
        },
      },
    ],
  },
});
