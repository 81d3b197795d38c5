import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/grpc/rpc-cache.js';

describe('LruCache', () => {
  it('keeps at most maxSize entries, dropping the least recently used', () => {
    const cache = new LruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
  });

  it('deletes one key or all, and holds nothing with a size of 0', () => {
    const cache = new LruCache<number>(5);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.delete('a');
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, 2]);
    cache.clear();
    expect(cache.size).toBe(0);
    const none = new LruCache<number>(0);
    none.set('a', 1);
    expect(none.get('a')).toBeUndefined();
  });
});
