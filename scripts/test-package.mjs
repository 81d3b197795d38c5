#!/usr/bin/env node
/**
 * Packs rampflag, installs the tarball into a scratch project, and checks that every subpath in
 * package.json "exports" can be `import`ed and `require`d, evaluates a flag through each module
 * system, and type-checks an import of each subpath. Run after `npm run build`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'rampflag-pack-'));
const run = (cmd, args, cwd = scratch) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', scratch], root)
    .trim()
    .split('\n')
    .pop();
  const files = JSON.parse(
    run('npm', ['pack', '--dry-run', '--json', '--silent'], root),
  )[0].files.map((f) => f.path);
  const PROTO = 'proto/flagd/sync/v1/sync.proto'; // shipped for grpcurl and other tools
  const stray = files.filter(
    (f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', PROTO].includes(f),
  );
  if (stray.length > 0)
    throw new Error(`the tarball holds files outside dist/: ${stray.join(', ')}`);
  if (!files.includes(PROTO)) throw new Error(`the tarball lacks ${PROTO}`);

  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  );
  const peers = Object.keys(pkg.peerDependencies).map(
    (name) => `${name}@${pkg.devDependencies[name] ?? pkg.peerDependencies[name]}`,
  );
  // @types/node: the SDK's own types need it, as in any Node project that type-checks.
  const nodeTypes = `@types/node@${pkg.devDependencies['@types/node']}`;
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--silent',
    join(scratch, tarball),
    ...peers,
    nodeTypes,
  ]);

  const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
  const config =
    '{"flags":{"f":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"fractional":[["on",1],["off",0]]}}}}';
  for (const subpath of subpaths) {
    const specifier = subpath === '.' ? 'rampflag' : `rampflag/${subpath.slice(2)}`;
    const evaluate = `const e = m.createEvaluator(); e.setConfiguration(${JSON.stringify(config)}); const r = e.resolveBoolean('f', false, { targetingKey: 'u' }); if (r.value !== true || r.reason !== 'TARGETING_MATCH') throw new Error(JSON.stringify(r));`;
    // rampflag/otel: the hooks build, and a hook runs without an OpenTelemetry SDK installed.
    const otel = `const h = m.createSpanHook(); h.finally({ flagKey: 'f', providerMetadata: { name: 'flagd' }, context: {}, logger: console }, { flagKey: 'f', value: true, variant: 'on', reason: 'STATIC', flagMetadata: {} }); if (typeof m.createMetricsHook !== 'function' || typeof m.withFlagVariants !== 'function') throw new Error('otel exports');`;
    const grpc = `if (typeof m.GrpcSyncSource !== 'function' || m.backoffDelay(0, 1000, 12000, () => 1) !== 1000) throw new Error('grpc exports');`;
    const server = `if (typeof m.FlagServer !== 'function') throw new Error('server exports');`;
    const check = { './otel': otel, './grpc': grpc, './server': server }[subpath] ?? evaluate;
    run(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import('${specifier}'); ${check}`,
    ]);
    run(process.execPath, [
      '--input-type=commonjs',
      '-e',
      `const m = require('${specifier}'); ${check}`,
    ]);
    if (subpath === '.') {
      // The provider, through the SDK, from each module system.
      const provider = `const flags = new m.InMemoryFlagSource({ f: { variants: { on: true }, defaultVariant: 'on' } }); await sdk.OpenFeature.setProviderAndWait(new m.FlagdProvider({ source: flags })); const d = await sdk.OpenFeature.getClient().getBooleanDetails('f', false); if (d.value !== true || d.reason !== 'STATIC' || sdk.OpenFeature.getProviderMetadata().name !== 'flagd') throw new Error(JSON.stringify(d)); await sdk.OpenFeature.close();`;
      run(process.execPath, [
        '--input-type=module',
        '-e',
        `const m = await import('rampflag'); const sdk = await import('@openfeature/server-sdk'); ${provider}`,
      ]);
      run(process.execPath, [
        '--input-type=commonjs',
        '-e',
        `(async () => { const m = require('rampflag'); const sdk = require('@openfeature/server-sdk'); ${provider} })().catch((e) => { console.error(e); process.exit(1); });`,
      ]);
    }
    console.log(`ok  ${specifier}: import and require`);
  }

  // The binary: installed on the PATH of the scratch project, it runs and prints its usage.
  const bin = spawnSync(join(scratch, 'node_modules', '.bin', 'rampflag'), [], {
    encoding: 'utf8',
  });
  if (bin.status !== 2 || !bin.stderr.includes('commands: serve')) {
    throw new Error(`rampflag binary: exit ${bin.status}, ${bin.stderr}`);
  }
  console.log('ok  the rampflag binary runs');

  const typecheck = subpaths
    .map(
      (subpath, i) =>
        `import * as m${i} from '${subpath === '.' ? 'rampflag' : `rampflag/${subpath.slice(2)}`}';\n` +
        (subpath === './otel'
          ? `const o${i}: m${i}.SpanHookOptions = { includeValue: false };\nvoid m${i}.createSpanHook(o${i});`
          : subpath === './grpc'
            ? `const d${i}: number = m${i}.backoffDelay(0, 1, 2, Math.random);\nvoid d${i};`
            : subpath === './server'
              ? `const s${i}: m${i}.FlagServerOptions | undefined = undefined;\nvoid s${i};`
              : `const e${i}: m${i}.Evaluator = m${i}.createEvaluator();\nvoid e${i};`),
    )
    .join('\n');
  writeFileSync(join(scratch, 'check.ts'), typecheck);
  for (const module of ['nodenext', 'preserve']) {
    const resolution = module === 'nodenext' ? 'nodenext' : 'bundler';
    run(process.execPath, [
      join(root, 'node_modules/typescript/bin/tsc'),
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      module,
      '--moduleResolution',
      resolution,
      'check.ts',
    ]);
    console.log(`ok  types resolve with module ${module} / moduleResolution ${resolution}`);
  }
  console.log(`package test passed: ${subpaths.length} subpaths, tarball ${tarball}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
