/** How retries wait; injectable so tests run without real delays. */
export interface RetryPolicy {
  readonly attempts: number;
  /** Base delay in ms; attempt n waits about base * 2^(n-1), jittered. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task` until it succeeds, it fails with something `retryable` says is not transient, or
 * the attempts run out. Waits are exponential with full jitter, capped.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  task: (attempt: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !retryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
