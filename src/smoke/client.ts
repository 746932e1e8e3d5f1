import { StepFailure, type StepContext } from './engine.js';

/**
 * The openstack client with the admin credentials in its environment (it runs as the runner's
 * user). `ensure` makes a named resource only when there is none: it counts by listing, so a
 * failing lookup fails the step instead of passing for "absent", and two of one name (which
 * neutron, nova and Keystone's services allow, and which makes every later use of the name
 * ambiguous) stop the step with what to delete. That is what makes a retry after a partial
 * failure, and the upgrade level's second and third rounds, make only what is missing.
 */
export function client(ctx: StepContext, admin: Readonly<Record<string, string>>) {
  // Only this cloud's credentials: an OS_CLOUD, OS_TOKEN or OS_PROJECT_ID of the job's (a
  // self-hosted runner on an OpenStack cloud has them) would point the client elsewhere.
  const run = (...args: string[]) =>
    ctx.run(['openstack', ...args], { env: admin, dropEnv: /^OS_/ });
  const named = async (kind: string, name: string, list: string[] = []): Promise<string[]> =>
    (await run(kind, 'list', ...list, '-f', 'value', '-c', 'ID', '-c', 'Name')).output
      .map((line) => line.trim().split(/\s+/))
      .filter(([, n]) => n === name)
      .map(([id]) => id!);
  return {
    run,
    named,
    ensure: async (
      kind: string,
      name: string,
      create: string[],
      list: string[] = [],
    ): Promise<void> => {
      const found = await named(kind, name, list);
      if (found.length > 1) throw tooMany(kind, name, found);
      if (found.length === 0) await run(kind, 'create', ...create);
    },
  };
}

/** Two or more resources of one name: the step stops (a retry would not help) and says which. */
export function tooMany(kind: string, name: string, ids: readonly string[]): StepFailure {
  return new StepFailure(
    `${ids.length} ${kind}s are named '${name}' (${ids.join(', ')}): every later use of the name is ambiguous; delete all but one`,
    false,
  );
}

/** The client of one step (see `client`). */
export type Client = ReturnType<typeof client>;

/**
 * Runs independent chains of client calls side by side and waits for all of them before it
 * fails: a step retried while a call of its last try still ran could make a second of a name.
 * The first failure, in the order given, is the step's; else their results, in that order.
 */
export async function together<T extends readonly unknown[] | []>(
  chains: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled<readonly unknown[]>(chains);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
