import { describe, expect, it } from 'vitest';
import type { SyncCall } from '../../src/server/sync-service.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { ServedFlags } from '../../src/server/served-flags.js';
import { parseSelector } from '../../src/server/selector.js';
import { Subscribers } from '../../src/server/subscribers.js';

const flag = (flagSetId?: string) => ({
  state: 'ENABLED',
  variants: { on: true },
  defaultVariant: 'on',
  ...(flagSetId === undefined ? {} : { metadata: { flagSetId } }),
});

function served(maxSelections?: number) {
  const flags = new ServedFlags(['a.json', 'b.json'], undefined, maxSelections);
  flags.apply('a.json', { flags: { one: flag('shop'), two: flag('blog') } });
  flags.apply('b.json', { flags: { three: flag() } });
  return flags;
}

describe('the selections a server keeps', () => {
  it('shares one entry among all selectors that name no existing flag set or source', () => {
    const flags = served();
    const first = flags.evaluatorFor(parseSelector('flagSetId=made-up-0'));
    for (let i = 1; i < 5000; i++) {
      expect(flags.evaluatorFor(parseSelector(`flagSetId=made-up-${i}`))).toBe(first);
      flags.json(parseSelector(`source=made-up-${i}`));
      flags.syncBytes(parseSelector(`made-up-${i}.json`));
    }
    expect(first.flagKeys()).toEqual([]);
    expect(flags.cachedSelections).toBe(2); // one for flag sets, one for sources
  });

  it('keeps a bounded number of real selections, recomputing an evicted one on demand', () => {
    const flags = new ServedFlags(['a.json'], undefined, 4);
    const many = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`f${i}`, flag(`set${i}`)]),
    );
    flags.apply('a.json', { flags: many });
    for (let i = 0; i < 20; i++)
      expect(flags.evaluatorFor(parseSelector(`flagSetId=set${i}`)).flagKeys()).toEqual([`f${i}`]);
    expect(flags.cachedSelections).toBe(4);
    expect(flags.evaluatorFor(parseSelector('flagSetId=set0')).flagKeys()).toEqual(['f0']);
  });

  it('selects what flagd selects: a set, the flags with none, a source', () => {
    const flags = served();
    const keys = (selector: string) =>
      Object.keys((JSON.parse(flags.json(parseSelector(selector))) as { flags: object }).flags);
    expect(keys('flagSetId=shop')).toEqual(['one']);
    expect(keys('flagSetId=')).toEqual(['three']);
    expect(keys('source=b.json')).toEqual(['three']);
    expect(keys('flagSetId=nope')).toEqual([]);
    expect(keys('nope.json')).toEqual([]);
  });

  it('keeps the identity of JSON that a change left as it was', () => {
    const flags = served();
    const blog = flags.json(parseSelector('flagSetId=blog'));
    flags.apply('b.json', { flags: { three: flag(), four: flag() } });
    expect(flags.json(parseSelector('flagSetId=blog'))).toBe(blog);
  });
});

/** A SyncFlags call that records what it is sent, and fails when told to. */
function fakeCall(failAfter = Infinity) {
  const written: Uint8Array[] = [];
  const listeners = new Map<string, () => void>();
  const errors: unknown[] = [];
  const call = {
    write(bytes: Uint8Array) {
      if (written.length >= failAfter) throw new RangeError('Maximum call stack size exceeded');
      written.push(bytes);
      return true;
    },
    on(event: string, listener: () => void) {
      listeners.set(event, listener);
      return call;
    },
    emit(event: string, error: unknown) {
      if (event === 'error') errors.push(error);
      return true;
    },
  };
  return {
    call: call as unknown as SyncCall,
    written,
    errors,
    close: () => listeners.get('close')?.(),
  };
}

const streamGauge = (metrics: ServerMetrics) =>
  /rampflag_sync_streams\{transport="grpc"\} (-?\d+)/.exec(metrics.render())?.[1];

describe('the subscribers of a server', () => {
  it('registers a stream only once its first message is written', () => {
    const flags = served();
    const metrics = new ServerMetrics();
    const subscribers = new Subscribers(flags, metrics, console);
    const broken = fakeCall(0);
    expect(() => subscribers.addGrpc(broken.call, parseSelector(''))).toThrow(RangeError);
    expect(subscribers.size).toBe(0);
    expect(streamGauge(metrics)).toBeUndefined();
  });

  it('closes a stream that fails alone, and still sends every other its change', () => {
    const flags = served();
    const metrics = new ServerMetrics();
    const logged: string[] = [];
    const logger = { ...console, warn: (message: string) => void logged.push(message) };
    const subscribers = new Subscribers(flags, metrics, logger);
    const failing = fakeCall(1);
    const healthy = fakeCall();
    const later = fakeCall();
    subscribers.addGrpc(failing.call, parseSelector(''));
    subscribers.addGrpc(healthy.call, parseSelector(''));
    subscribers.addGrpc(later.call, parseSelector('flagSetId=shop'));
    expect(streamGauge(metrics)).toBe('3');
    flags.apply('a.json', { flags: { one: flag('shop') } });
    subscribers.broadcast();
    expect(healthy.written).toHaveLength(2);
    expect(later.written).toHaveLength(1); // its selection did not change
    expect(failing.errors).toEqual([expect.objectContaining({ code: 13 })]); // INTERNAL
    expect(logged.join()).toMatch(/closing a grpc stream: Maximum call stack/);
    expect(streamGauge(metrics)).toBe('2');
    failing.close(); // its close event comes later: counted once
    healthy.close();
    later.close();
    expect(streamGauge(metrics)).toBe('0');
  });

  it('sends a stream whose selection changed what it serves, once per change', () => {
    const flags = served();
    const subscribers = new Subscribers(flags, new ServerMetrics(), console);
    const shop = fakeCall();
    subscribers.addGrpc(shop.call, parseSelector('flagSetId=shop'));
    flags.apply('b.json', { flags: { three: flag(), four: flag() } });
    subscribers.broadcast();
    expect(shop.written).toHaveLength(1);
    flags.apply('a.json', { flags: { one: flag('shop'), five: flag('shop') } });
    subscribers.broadcast();
    subscribers.broadcast();
    expect(shop.written).toHaveLength(2);
  });
});
