import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'] } },
      {
        // The evaluator suites again, with eval and Function replaced by throwing stubs.
        extends: true,
        test: {
          name: 'no-eval',
          include: ['test/evaluator/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          setupFiles: ['test/support/no-dynamic-code.ts'],
        },
      },
    ],
  },
});
