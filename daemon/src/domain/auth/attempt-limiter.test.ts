import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('allows max attempts per window per key, then says how long to wait', () => {
    const limiter = new AttemptLimiter(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a', 1000 * i)).toBe(0);
      limiter.hit('a', 1000 * i);
    }
    expect(limiter.retryAfter('a', 2000)).toBe(58);
    expect(limiter.retryAfter('b', 2000)).toBe(0);
  });

  it('slides: the oldest attempt leaving the window frees one try', () => {
    const limiter = new AttemptLimiter(2, 10_000);
    limiter.hit('a', 0);
    limiter.hit('a', 5000);
    expect(limiter.retryAfter('a', 9000)).toBe(1);
    expect(limiter.retryAfter('a', 10_001)).toBe(0);
  });

  it('forgets a key on reset', () => {
    const limiter = new AttemptLimiter(1, 60_000);
    limiter.hit('a', 0);
    limiter.reset('a');
    expect(limiter.retryAfter('a', 1)).toBe(0);
  });

  it('keeps counting live keys while pruning a flood of distinct ones', () => {
    const limiter = new AttemptLimiter(1, 1000);
    limiter.hit('live', 10_000);
    for (let i = 0; i < 10_001; i++) limiter.hit(`flood-${i}`, i % 100);
    expect(limiter.retryAfter('live', 10_500)).toBe(1);
  });
});
