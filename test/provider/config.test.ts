import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/provider/config.js';

describe('resolveConfig', () => {
  it('takes an option over its environment variable over the default', () => {
    expect(resolveConfig({ deadlineMs: 1 }, { FLAGD_DEADLINE_MS: '2' }).deadlineMs).toBe(1);
    expect(resolveConfig({}, { FLAGD_DEADLINE_MS: '2' }).deadlineMs).toBe(2);
    expect(resolveConfig({}, {}).deadlineMs).toBe(500);
  });

  it('defaults the port by resolver, the environment resolver included', () => {
    expect(resolveConfig({}, {}).port).toBe(8013);
    expect(resolveConfig({}, { FLAGD_RESOLVER: 'IN-PROCESS' }).port).toBe(8015);
    expect(
      resolveConfig({ resolverType: 'in-process' }, { FLAGD_SYNC_PORT: '9', FLAGD_PORT: '8' }).port,
    ).toBe(9);
    expect(resolveConfig({}, { FLAGD_SYNC_PORT: '9', FLAGD_PORT: '8' }).port).toBe(8);
  });

  it('switches in-process with a flag file to file mode', () => {
    expect(
      resolveConfig({ resolverType: 'in-process', offlineFlagSourcePath: 'f.json' }, {})
        .resolverType,
    ).toBe('file');
    expect(
      resolveConfig({}, { FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'f.json', FLAGD_RESOLVER: 'in-process' })
        .resolverType,
    ).toBe('file');
  });

  it('reads a flag file with no resolver asked for, and keeps an explicit rpc as flagd does', () => {
    expect(resolveConfig({ offlineFlagSourcePath: 'f.json' }, {}).resolverType).toBe('file');
    expect(resolveConfig({}, { FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'f.json' }).resolverType).toBe(
      'file',
    );
    expect(
      resolveConfig({ offlineFlagSourcePath: 'f.json' }, { FLAGD_RESOLVER: 'rpc' }).resolverType,
    ).toBe('rpc');
    expect(
      resolveConfig({ offlineFlagSourcePath: 'f.json' }, { FLAGD_RESOLVER: '' }).resolverType,
    ).toBe('file');
  });

  it.each([
    [{}, { FLAGD_PORT: 'eighty' }, /FLAGD_PORT: "eighty" is not an integer/],
    [{}, { FLAGD_TLS: 'yes' }, /FLAGD_TLS: "yes" is not true or false/],
    [{}, { FLAGD_RESOLVER: 'grpc' }, /FLAGD_RESOLVER: "grpc" is not one of rpc, in-process, file/],
    [{}, { FLAGD_CACHE: 'redis' }, /FLAGD_CACHE: "redis" is not lru or disabled/],
    [{ resolverType: 'file' as const }, {}, /needs offlineFlagSourcePath/],
  ])('rejects %j with %j, naming what is wrong', (options, env, message) => {
    expect(() => resolveConfig(options, env)).toThrow(message);
  });

  it('merges the sync context by default, and uses a given enricher', () => {
    expect(resolveConfig({}, {}).contextEnricher({ a: 1 })).toEqual({ a: 1 });
    expect(resolveConfig({}, {}).contextEnricher(null)).toEqual({});
    expect(
      resolveConfig({ contextEnricher: () => ({ b: 2 }) }, {}).contextEnricher({ a: 1 }),
    ).toEqual({ b: 2 });
  });
});
