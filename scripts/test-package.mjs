#!/usr/bin/env node
/**
 * Packs rampflag and installs the tarball ALONE into an empty project, as a user's `npm install
 * rampflag` does (npm adds the non-optional peers itself). Then: reports what each entry imports at
 * run time and whether the install brought it; runs `npx rampflag --help`, imports every entry
 * (only `rampflag/otel` may need the optional peer @opentelemetry/api), and evaluates a flag in
 * in-process mode against a `rampflag serve` it starts. Then, with the optional peer and
 * @types/node added, checks that every subpath in "exports" can be `import`ed and `require`d,
 * evaluates a flag through each module system, and type-checks an import of each subpath.
 * Run after `npm run build`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { clearTimeout, setTimeout } from 'node:timers';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'rampflag-pack-'));
const run = (cmd, args, cwd = scratch) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

try {
  // the build is fresh (this runs after `npm run build`): no prepack build, whose output would mix
  // with npm's JSON
  const tarball = run(
    'npm',
    ['pack', '--silent', '--ignore-scripts', '--pack-destination', scratch],
    root,
  )
    .trim()
    .split('\n')
    .pop();
  const files = JSON.parse(
    run('npm', ['pack', '--dry-run', '--json', '--silent', '--ignore-scripts'], root),
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
  // The tarball alone: what a user's `npm install rampflag` gets.
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', join(scratch, tarball)]);
  const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
  const specifierOf = (subpath) => (subpath === '.' ? 'rampflag' : `rampflag/${subpath.slice(2)}`);
  const OPTIONAL = { './otel': ['@opentelemetry/api'] }; // optional peers, named in the README
  checkRuntimeNeeds(subpaths);
  checkBareInstall(subpaths);
  await checkServerModes();

  // The optional peer for rampflag/otel, and @types/node (the SDK's own types need it, as in any
  // Node project that type-checks).
  const optional = Object.keys(pkg.peerDependenciesMeta ?? {}).map(
    (name) => `${name}@${pkg.peerDependencies[name]}`,
  );
  const nodeTypes = `@types/node@${pkg.devDependencies['@types/node']}`;
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', ...optional, nodeTypes]);

  /**
   * The packages each entry (and the binary) imports at run time, following its chunks and its
   * lazy imports (in-process mode loads the gRPC source only when used), and whether the tarball
   * alone installed them. Fails when an entry needs what is neither installed nor an optional peer
   * named in OPTIONAL.
   */
  function checkRuntimeNeeds(entries) {
    const dist = join(scratch, 'node_modules', 'rampflag', 'dist');
    // a specifier has no whitespace: text in a string ("… from 'x'\n…") is not an import
    const IMPORT = /(?:from\s*|import\s*\(?\s*|require\(\s*)['"]([^'"\s]+)['"]/g;
    const builtins = new Set(builtinModules);
    const needsOf = (file) => {
      const packages = new Set();
      const seen = new Set();
      const queue = [file];
      while (queue.length > 0) {
        const current = queue.pop();
        if (seen.has(current)) continue;
        seen.add(current);
        for (const [, spec] of readFileSync(current, 'utf8').matchAll(IMPORT)) {
          if (spec.startsWith('.')) queue.push(join(dirname(current), spec));
          else if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w./-]*)?$/.test(spec))
            continue; // text, not a package
          else if (!builtins.has(spec.replace(/^node:/, '').split('/')[0])) {
            const parts = spec.split('/');
            packages.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
          }
        }
      }
      return [...packages].sort();
    };
    const installed = (name) => existsSync(join(scratch, 'node_modules', name, 'package.json'));
    const rows = [['rampflag (the binary)', 'cli.js', [], '.']];
    for (const subpath of entries) {
      const { import: esm, require: cjs } = pkg.exports[subpath];
      rows.push([specifierOf(subpath), esm.default, OPTIONAL[subpath] ?? [], subpath]);
      rows.push([
        `${specifierOf(subpath)} (require)`,
        cjs.default,
        OPTIONAL[subpath] ?? [],
        subpath,
      ]);
    }
    const problems = [];
    for (const [name, file, optionalPeers] of rows) {
      const needs = needsOf(join(dist, file.replace(/^\.\/dist\//, '')));
      const missing = needs.filter((n) => !installed(n));
      const unexpected = missing.filter((n) => !optionalPeers.includes(n));
      if (unexpected.length > 0) problems.push(`${name} needs ${unexpected.join(', ')}`);
      const note =
        missing.length === 0 ? 'all installed' : `the user installs ${missing.join(', ')}`;
      console.log(
        `${unexpected.length > 0 ? 'NO ' : 'ok '} ${name} imports ${needs.join(', ') || 'nothing'}: ${note}`,
      );
    }
    if (problems.length > 0)
      throw new Error(`npm install rampflag alone does not install: ${problems.join('; ')}`);
  }

  /** The binary, and every entry but the optional-peer ones, straight after the bare install. */
  function checkBareInstall(entries) {
    const help = spawnSync('npx', ['--no-install', 'rampflag', '--help'], {
      cwd: scratch,
      encoding: 'utf8',
    });
    if (help.status !== 0 || !/Commands:[\s\S]*serve[\s\S]*validate/.test(help.stdout))
      throw new Error(`npx rampflag --help: exit ${help.status}\n${help.stdout}${help.stderr}`);
    console.log('ok  npx rampflag --help prints the usage');
    for (const subpath of entries) {
      const specifier = specifierOf(subpath);
      for (const [type, load] of [
        ['module', `await import('${specifier}')`],
        ['commonjs', `require('${specifier}')`],
      ]) {
        const loaded = spawnSync(process.execPath, ['--input-type', type, '-e', load], {
          cwd: scratch,
          encoding: 'utf8',
        });
        const peers = OPTIONAL[subpath] ?? [];
        if (loaded.status === 0) continue;
        if (peers.some((peer) => loaded.stderr.includes(`'${peer}'`))) {
          console.log(`ok  ${specifier} (${type}) needs ${peers.join(', ')}, as documented`);
          continue;
        }
        throw new Error(
          `${specifier} (${type}) after npm install rampflag alone:\n${loaded.stderr}`,
        );
      }
    }
    console.log('ok  every entry loads after npm install rampflag alone');
  }

  /**
   * Every everyday command through the installed binary, against the files and the running
   * `rampflag serve`: each with the exit code its help documents.
   */
  function checkCommands(syncPort, httpPort) {
    writeFileSync(
      join(scratch, 'ramp.json'),
      '{"flags":{"f":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","targeting":{"fractional":[["on",25],["off",75]]}}}}',
    );
    writeFileSync(
      join(scratch, 'bad.json'),
      '{"flags":{"f":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"of"}}}',
    );
    writeFileSync(
      join(scratch, 'counts.csv'),
      'metric,variant,users,conversions\npurchase,off,10000,1000\npurchase,on,9500,1100\n',
    );
    const bin = join(scratch, 'node_modules', '.bin', 'rampflag');
    const cases = [
      [
        ['--version'],
        0,
        new RegExp(`^${JSON.parse(readFileSync('package.json', 'utf8')).version}$`, 'm'),
      ],
      [['serv'], 2, /Did you mean serve\?/],
      [['validate', 'flags.json', 'ramp.json'], 0, /./],
      [['validate', 'bad.json'], 1, /bad\.json:1:\d+/],
      [['get', 'f', 'ramp.json', '--json'], 0, /"on"/],
      [['eval', 'f', 'ramp.json', '-c', 'targetingKey=user-42', '--explain'], 0, /bucket/],
      [['distribution', 'f', 'ramp.json', '--subjects', '2000'], 0, /χ²/],
      [['diff', 'flags.json', 'ramp.json'], 1, /changed/i],
      [['drift', 'flags.json', '--from', `grpc://127.0.0.1:${syncPort}`], 0, /./],
      [['verify', 'f', '--replica', `http://127.0.0.1:${httpPort}`, '--subjects', '50'], 0, /./],
      [['rollout', '--help'], 0, /^usage: rampflag rollout/m],
      [['experiment', 'plan', '--baseline', '3%', '--lift', '5%'], 0, /users per variant/],
      [['experiment', 'analyze', '--counts', 'counts.csv'], 0, /on vs off on purchase/],
      [['experiment', 'analyze', '--counts', 'counts.csv', '--fail-on-srm'], 1, /MISMATCH/],
    ];
    for (const [args, expected, pattern] of cases) {
      const result = spawnSync(bin, args, {
        cwd: scratch,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      const output = `${result.stdout}${result.stderr}`;
      if (result.status !== expected || !pattern.test(output))
        throw new Error(
          `rampflag ${args.join(' ')}: exit ${result.status} (expected ${expected})\n${output}`,
        );
    }
    console.log(`ok  ${cases.length} commands through the installed binary, with their exit codes`);
  }

  /**
   * The provider's server modes end to end, straight after the bare install: `rampflag serve` on
   * free ports, and a FlagdProvider evaluating from it through @grpc/grpc-js, in-process (sync
   * port) and rpc (evaluation port, the default resolver), from each module system.
   */
  async function checkServerModes() {
    writeFileSync(
      join(scratch, 'flags.json'),
      '{"flags":{"f":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}}}',
    );
    const ports = ['--sync-port', '--http-port', '--management-port', '--ofrep-port'];
    const child = spawn(
      join(scratch, 'node_modules', '.bin', 'rampflag'),
      ['serve', 'flags.json', ...ports.flatMap((p) => [p, '0'])],
      { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const { syncPort, httpPort } = await new Promise((resolveStart, reject) => {
        let output = '';
        const timer = setTimeout(
          () => reject(new Error(`rampflag serve: silent\n${output}`)),
          30_000,
        );
        const read = (chunk) => {
          output += chunk;
          const sync = /sync \(gRPC\) \S+:(\d+)/.exec(output);
          const http = /evaluation API and SSE \S+:(\d+)/.exec(output);
          if (sync && http) {
            clearTimeout(timer);
            resolveStart({ syncPort: Number(sync[1]), httpPort: Number(http[1]) });
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.on('exit', (code) => reject(new Error(`rampflag serve exited ${code}\n${output}`)));
      });
      // in-process on the sync port, and the default resolver (rpc) on the evaluation port, as
      // a user of @openfeature/flagd-provider gets by changing the import alone
      for (const [mode, settings] of [
        ['in-process', `{ resolverType: 'in-process', host: '127.0.0.1', port: ${syncPort} }`],
        ['rpc (the default)', `{ host: '127.0.0.1', port: ${httpPort} }`],
      ]) {
        const evaluate = `const provider = new m.FlagdProvider(${settings}); await sdk.OpenFeature.setProviderAndWait(provider); const d = await sdk.OpenFeature.getClient().getBooleanDetails('f', false); await sdk.OpenFeature.close(); if (d.value !== true || d.reason !== 'STATIC') throw new Error(JSON.stringify(d));`;
        run(process.execPath, [
          '--input-type=module',
          '-e',
          `const m = await import('rampflag'); const sdk = await import('@openfeature/server-sdk'); ${evaluate}`,
        ]);
        run(process.execPath, [
          '--input-type=commonjs',
          '-e',
          `(async () => { const m = require('rampflag'); const sdk = require('@openfeature/server-sdk'); ${evaluate} })().catch((e) => { console.error(e); process.exit(1); });`,
        ]);
        console.log(`ok  ${mode} mode evaluates from rampflag serve, import and require`);
      }
      checkCommands(syncPort, httpPort);
    } finally {
      child.kill();
    }
  }

  const config =
    '{"flags":{"f":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"fractional":[["on",1],["off",0]]}}}}';
  for (const subpath of subpaths) {
    const specifier = subpath === '.' ? 'rampflag' : `rampflag/${subpath.slice(2)}`;
    const evaluate = `const e = m.createEvaluator(); e.setConfiguration(${JSON.stringify(config)}); const r = e.resolveBoolean('f', false, { targetingKey: 'u' }); if (r.value !== true || r.reason !== 'TARGETING_MATCH') throw new Error(JSON.stringify(r));`;
    // rampflag/otel: the hooks build, and a hook runs without an OpenTelemetry SDK installed.
    const otel = `const h = m.createSpanHook(); h.finally({ flagKey: 'f', providerMetadata: { name: 'flagd' }, context: {}, logger: console }, { flagKey: 'f', value: true, variant: 'on', reason: 'STATIC', flagMetadata: {} }); if (typeof m.createMetricsHook !== 'function' || typeof m.withFlagVariants !== 'function') throw new Error('otel exports');`;
    const grpc = `if (typeof m.GrpcSyncSource !== 'function' || m.backoffDelay(0, 1000, 12000, () => 1) !== 1000) throw new Error('grpc exports');`;
    const server = `if (typeof m.FlagServer !== 'function') throw new Error('server exports');`;
    const rollout = `const p = m.parsePlan({ flag: 'f', treatment: 'on', control: 'off', steps: [1, 100] }); if (m.decide(p, { id: 'r', status: 'running', step: 0, since: 0 }, { steps: [] }, 0).action !== 'hold') throw new Error('rollout exports');`;
    const experiment = `const t = m.createTrackingRecorder(); t.exposure('f', 'on', { targetingKey: 'u' }); if (t.totals('f').assignment.on !== 1 || m.EXPERIMENT_SERIES.exposures !== 'feature_flag_experiment_exposures_total') throw new Error('experiment exports');`;
    const check =
      {
        './otel': otel,
        './grpc': grpc,
        './server': server,
        './rollout': rollout,
        './experiment': experiment,
      }[subpath] ?? evaluate;
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
  if (bin.status !== 2 || !/Commands:[\s\S]*serve/.test(bin.stderr)) {
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
              : subpath === './rollout'
                ? `const p${i}: m${i}.RolloutPlan = m${i}.parsePlan('flag: f');\nvoid p${i};`
                : subpath === './experiment'
                  ? `const t${i}: m${i}.TrackingRecorder = m${i}.createTrackingRecorder();\nvoid t${i};`
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
