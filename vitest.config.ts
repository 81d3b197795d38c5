import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Examples and tests import the package by name, as users do; this maps it to the sources.
const alias = {
  'rampflag/evaluator': fileURLToPath(new URL('./src/evaluator/index.ts', import.meta.url)),
  'rampflag/otel': fileURLToPath(new URL('./src/hooks/index.ts', import.meta.url)),
  'rampflag/grpc': fileURLToPath(new URL('./src/grpc/index.ts', import.meta.url)),
  'rampflag/server': fileURLToPath(new URL('./src/server/index.ts', import.meta.url)),
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
        // The evaluator suites again, with eval and Function replaced by throwing stubs.
        extends: true,
        test: {
          name: 'no-eval',
          include: ['test/evaluator/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          // these evaluate in `rampflag serve` child processes, which the stubs do not reach
          exclude: ['test/conformance/in-process-*.test.ts'],
          setupFiles: ['test/support/no-dynamic-code.ts'],
        },
      },
    ],
  },
});
