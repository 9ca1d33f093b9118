import { describe, expect, it } from 'vitest';
import { ReadCache, WeakReadCache } from './read-cache.js';

/** A read that counts its calls and answers when told to. */
function countedRead<V>(answer: () => V) {
  const read = async () => {
    read.calls++;
    return answer();
  };
  read.calls = 0;
  return read;
}

describe('ReadCache', () => {
  it('reads once per key while the generation stands, and again once it moves', async () => {
    const data = { generation: 0 };
    const cache = new ReadCache<string>(data);
    const read = countedRead(() => `read at ${data.generation}`);
    expect(await cache.get('k', read)).toBe('read at 0');
    expect(await cache.get('k', read)).toBe('read at 0');
    expect(read.calls).toBe(1);
    data.generation++;
    expect(await cache.get('k', read)).toBe('read at 1');
    expect(read.calls).toBe(2);
  });

  it('shares one read among concurrent misses of a key', async () => {
    const cache = new ReadCache<number>({ generation: 0 });
    const read = countedRead(() => 42);
    expect(await Promise.all([cache.get('k', read), cache.get('k', read), cache.get('k', read)])).toEqual([42, 42, 42]);
    expect(read.calls).toBe(1);
  });

  it('does not keep what a write made stale while it was being read', async () => {
    const data = { generation: 0 };
    const cache = new ReadCache<string>(data);
    const read = countedRead(() => 'old');
    const pending = cache.get('k', read);
    data.generation++; // a write commits while the query runs
    expect(await pending).toBe('old');
    await cache.get('k', read);
    expect(read.calls).toBe(2);
  });

  it('forgets a failed read, so the next call tries again', async () => {
    const cache = new ReadCache<string>({ generation: 0 });
    await expect(cache.get('k', () => Promise.reject(new Error('busy')))).rejects.toThrow('busy');
    expect(await cache.get('k', async () => 'fine')).toBe('fine');
  });

  it('knows a value without a promise only once its read has finished, and only in its generation', async () => {
    const data = { generation: 0 };
    const cache = new ReadCache<string | null>(data);
    const pending = cache.get('k', async () => null);
    expect(cache.known('k')).toBeUndefined(); // still being read
    await pending;
    expect(cache.known('k')).toEqual({ value: null }); // a lookup that found nothing is known too
    data.generation++;
    expect(cache.known('k')).toBeUndefined();
    await expect(cache.get('f', () => Promise.reject(new Error('busy')))).rejects.toThrow('busy');
    expect(cache.known('f')).toBeUndefined();
  });

  it('holds at most its capacity, dropping the oldest key first', async () => {
    const cache = new ReadCache<string>({ generation: 0 }, 2);
    const read = countedRead(() => 'v');
    for (const key of ['a', 'b', 'c']) await cache.get(key, read);
    await cache.get('c', read);
    await cache.get('b', read);
    expect(read.calls).toBe(3);
    await cache.get('a', read); // dropped when c came
    expect(read.calls).toBe(4);
  });
});

describe('WeakReadCache', () => {
  it('keeps one entry per key object, while the generation stands', async () => {
    const data = { generation: 0 };
    const cache = new WeakReadCache<object, string>(data);
    const [first, second] = [{}, {}];
    const read = countedRead(() => `read at ${data.generation}`);
    expect(await cache.get(first, read)).toBe('read at 0');
    expect(await cache.get(first, read)).toBe('read at 0');
    expect(await cache.get(second, read)).toBe('read at 0');
    expect(read.calls).toBe(2);
    data.generation++;
    expect(await cache.get(first, read)).toBe('read at 1');
    expect(read.calls).toBe(3);
  });

  it('knows a finished read of its generation', async () => {
    const data = { generation: 0 };
    const cache = new WeakReadCache<object, string>(data);
    const key = {};
    await cache.get(key, async () => 'v');
    expect(cache.known(key)).toEqual({ value: 'v' });
    expect(cache.known({})).toBeUndefined();
    data.generation++;
    expect(cache.known(key)).toBeUndefined();
  });

  it('forgets a failed read', async () => {
    const cache = new WeakReadCache<object, string>({ generation: 0 });
    const key = {};
    await expect(cache.get(key, () => Promise.reject(new Error('busy')))).rejects.toThrow('busy');
    expect(await cache.get(key, async () => 'fine')).toBe('fine');
  });
});
