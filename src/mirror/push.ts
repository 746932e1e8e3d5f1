import {
  errorMessage,
  ExternalError,
  type GitAuth,
  lastLines,
  redactUrl,
} from '../platform/index.js';
import { gitFor, type Link } from './copy.js';
import type { RefChange } from './plan.js';
import { ATOMIC_COLLATERAL } from './refs.js';

/** git's path's pushes: atomic, leased, in batches, finding the refs a destination refuses. */
/** The copy lacks objects it claims (a cache restore that died halfway): a local failure. */
export class CorruptCopyError extends ExternalError {
  override readonly name = 'CorruptCopyError';
}

export const LOCAL_FAILURE =
  /pack-objects died|bad (tree |blob |commit |tag )?object|unable to read [0-9a-f]{40}|could not read [0-9a-f]{40}|failed to traverse parents|missing (blob|tree|commit|tag) |did not send all necessary objects|revision walk setup failed/i;

export async function push(
  target: PushTarget,
  changes: readonly RefChange[],
  atomic: boolean,
): Promise<Rejection[]> {
  if (changes.length === 0) return [];
  const leases = changes.map((c) => `--force-with-lease=${c.ref}:${c.old ?? ''}`);
  const refspecs = changes.map((c) => (c.new ? `${c.new}:${c.ref}` : `:${c.ref}`));
  const pusher = gitFor(target.link, target.dir, target.auth);
  const result = await pusher.exec([
    'push',
    ...(atomic ? ['--atomic'] : []),
    '--porcelain',
    '--no-verify',
    ...leases,
    '--',
    target.destination,
    ...refspecs,
  ]);
  if (result.code === 0) return [];
  if (LOCAL_FAILURE.test(result.stderr))
    throw new CorruptCopyError(
      `the local copy could not send its objects (${lastLines(result.stderr)})`,
    );
  const rejected = parseRejections(result.stdout);
  // A copy begun from the destination lacks history below its tips; a destination that would
  // need it (it lost a commit since it was listed) refuses the push, and a complete copy is due.
  if (rejected.some((r) => /shallow/i.test(r.reason)))
    throw new CorruptCopyError(
      `the destination needs history the copy begun from it does not have (${rejected[0]!.reason})`,
    );
  const culprits = rejected.filter((r) => !ATOMIC_COLLATERAL.test(r.reason));
  if (culprits.length > 0) return culprits;
  if (rejected.length > 0) return rejected;
  throw new ExternalError(
    `push to ${redactUrl(target.destination)} failed: ${lastLines(result.stderr) || `exit ${result.code}`}`,
    { retryable: true },
  );
}

export interface PushTarget {
  readonly dir: string;
  readonly destination: string;
  readonly auth: GitAuth;
  readonly link: Link;
  readonly log: (message: string) => void;
}

export type Rejection = { ref: string; reason: string };

// Leases and refspecs are two arguments a ref; Linux allows about 2 MB of argv and environment.
export const MAX_PUSH_ARGV_BYTES = 512 * 1024;

/**
 * Pushes `changes` in as few atomic pushes as the argv allows (deletions first, so a branch `a`
 * goes before `a/b` arrives), each through pushFinding, and returns the refused refs.
 */
export async function pushBatches(changes: RefChange[], target: PushTarget): Promise<Rejection[]> {
  const batches: RefChange[][] = [[]];
  let bytes = 0;
  for (const change of changes) {
    const size = 2 * change.ref.length + 2 * 40 + 40;
    if (bytes + size > MAX_PUSH_ARGV_BYTES && batches.at(-1)!.length > 0) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(change);
    bytes += size;
  }
  if (batches.length > 1)
    target.log(`${changes.length} refs to push: in ${batches.length} atomic pushes`);
  const budget = { pushes: 64 + batches.length };
  const rejected: Rejection[] = [];
  for (const batch of batches) rejected.push(...(await pushFinding(batch, target, budget, true)));
  return rejected;
}

/**
 * Pushes `changes` and returns exactly the refs the destination refused. The first push is
 * atomic. When the destination names its culprits (an update hook, a protected branch), the rest
 * go again in one push that is not atomic, where each ref stands on its own. When it refuses every
 * ref for one reason (a pre-receive hook judges a push as a whole), the changes are pushed in
 * halves until the refused refs are found. Every push is leased, and counted against `budget`:
 * what is left when it runs out is reported refused, never pushed unleased or guessed. A group
 * whose push fails outright is reported refused with that reason; groups pushed before it stay
 * pushed and reported.
 */
export async function pushFinding(
  changes: RefChange[],
  target: PushTarget,
  budget: { pushes: number },
  atomic: boolean,
): Promise<Rejection[]> {
  if (changes.length === 0) return [];
  if (budget.pushes <= 0) {
    return changes.map((c) => ({
      ref: c.ref,
      reason: 'not pushed: the destination refused too many pushes to find which refs it refuses',
    }));
  }
  budget.pushes--;
  let rejected: Rejection[];
  try {
    rejected = await push(target, changes, atomic);
  } catch (error) {
    if (error instanceof CorruptCopyError) throw error;
    return changes.map((c) => ({ ref: c.ref, reason: errorMessage(error) }));
  }
  if (rejected.length === 0) return [];
  const refused = new Set(rejected.map((r) => r.ref));
  const rest = changes.filter((c) => !refused.has(c.ref));
  // Not atomic: what was not refused has landed.
  if (rest.length > 0 && !atomic) return rejected;
  if (rest.length > 0) {
    target.log(`destination refused ${[...refused].join(', ')}; pushing the rest`);
    return [...rejected, ...(await pushFinding(rest, target, budget, false))];
  }
  const reasons = new Set(rejected.map((r) => r.reason));
  if (changes.length === 1 || reasons.size > 1) return rejected;
  target.log(
    `destination refused all ${changes.length} refs (${[...reasons][0]}); pushing them in halves to find which`,
  );
  const half = Math.ceil(changes.length / 2);
  return [
    ...(await pushFinding(changes.slice(0, half), target, budget, false)),
    ...(await pushFinding(changes.slice(half), target, budget, false)),
  ];
}

/** Reads `git push --porcelain` lines: `!<TAB>src:dst<TAB>[rejected] (reason)`. */
export function parseRejections(porcelain: string): { ref: string; reason: string }[] {
  const rejected: { ref: string; reason: string }[] = [];
  for (const line of porcelain.split('\n')) {
    const match = /^!\t[^:\t]*:(\S+)\t(.*)$/.exec(line);
    if (!match) continue;
    let reason = match[2]!.replace(/^\[[^\]]*\]\s*/, '').replace(/^\((.*)\)$/, '$1') || 'rejected';
    if (/workflow/i.test(reason))
      reason += ' (the token needs the workflows permission to push .github/workflows changes)';
    rejected.push({ ref: match[1]!, reason });
  }
  return rejected;
}
