import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      evaluator: 'src/evaluator/index.ts',
      otel: 'src/hooks/index.ts',
      grpc: 'src/grpc/index.ts',
      server: 'src/server/index.ts',
      rollout: 'src/rollout/index.ts',
      experiment: 'src/experiment/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    // The `rampflag` binary: ESM only (it awaits at the top level), no types.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    define: { __RAMPFLAG_VERSION__: JSON.stringify(version) },
  },
]);
