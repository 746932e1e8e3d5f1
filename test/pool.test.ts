import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapConcurrent, slots } from '../src/platform/index.js';

describe('slots', () => {
  it('runs at most `limit` tasks at once, the waiting ones in the order they came, and frees a slot when a task fails', async () => {
    const slot = slots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) =>
      slot(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await sleep(20);
        running--;
        if (i === 1) throw new Error('task 1 fails');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(task));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
  });

  it('under a wider pool, holds the heavy part to its own limit (the mirror: 16 listings, 4 fetches)', async () => {
    const heavy = slots(2);
    let light = 0;
    let mostLight = 0;
    let inHeavy = 0;
    let mostHeavy = 0;
    await mapConcurrent([...Array(12).keys()], 6, async () => {
      mostLight = Math.max(mostLight, ++light);
      await sleep(5);
      light--;
      await heavy(async () => {
        mostHeavy = Math.max(mostHeavy, ++inHeavy);
        await sleep(10);
        inHeavy--;
      });
    });
    expect([mostLight, mostHeavy]).toEqual([6, 2]);
  });
});
