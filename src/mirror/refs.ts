import type { MirrorOptions } from './mirror.js';
import {
  destructiveChanges,
  destructiveLimit,
  type MirrorPlan,
  type RefChange,
  type RefMap,
} from './plan.js';
import type { RefFilter } from './spec.js';

/** What the mirror knows of refs: which change, in what order, how much, and whether it landed. */
/** A run that would destroy much of the destination is refused unless allowed: why, or null. */
export function destructiveRefusal(
  plan: MirrorPlan,
  mirroredAtDestination: number,
  options: Pick<MirrorOptions, 'maxDestructiveFraction' | 'allowDestructive'>,
): string | null {
  const destructive = destructiveChanges(plan);
  const limit = destructiveLimit(mirroredAtDestination, options.maxDestructiveFraction);
  if (destructive.length <= limit || options.allowDestructive) return null;
  return (
    `would delete or force-update ${destructive.length} of ${mirroredAtDestination} refs (limit ${limit}): ` +
    `${destructive
      .slice(0, 5)
      .map((c) => c.ref)
      .join(', ')}${destructive.length > 5 ? ', ...' : ''}. ` +
    `If the source really changed that much, rerun with allow-destructive: true.`
  );
}

/** Whether the destination's listing `refs` already shows `change` done. */
export function hasLanded(change: RefChange, refs: RefMap): boolean {
  return refs.get(change.ref) === (change.new ?? undefined);
}

/**
 * Deletions, then creations, then updates: the order of every push's refs (batches split by
 * argv go in this order, so a deleted branch `a` is gone before a batch creates `a/b`).
 */
export function orderedChanges(plan: MirrorPlan): RefChange[] {
  return [...plan.deleted, ...plan.created, ...plan.updated];
}

/**
 * The destination's refs whose tips make the negotiation bases of a fetch from the source: those
 * of the refs that change, and master (a base for what is cut from it). A new branch or tag is
 * often cut where another branch stands (unmaintained/ and -eol at a stable branch's tip): when a
 * ref is created, every branch's tip is a base too, so the source sends only what is new above
 * them, not the history below a tip it was not told of. Few bases keep the source's work small.
 */
export function baseRefs(upstream: RefMap, destination: RefMap): Set<string> {
  const refs = new Set(
    [...upstream]
      .filter(([ref, id]) => destination.has(ref) && destination.get(ref) !== id)
      .map(([ref]) => ref),
  );
  const trunk = ['refs/heads/master', 'refs/heads/main'].find((ref) => destination.has(ref));
  const anyBranch = [...destination.keys()].find((ref) => ref.startsWith('refs/heads/'));
  if (trunk ?? anyBranch) refs.add((trunk ?? anyBranch)!);
  if ([...upstream.keys()].some((ref) => !destination.has(ref)))
    for (const ref of destination.keys()) if (ref.startsWith('refs/heads/')) refs.add(ref);
  return refs;
}

export function filtered(refs: RefMap, filter: RefFilter): Map<string, string> {
  return new Map([...refs].filter(([ref]) => filter.matches(ref)));
}

export function sameRefs(a: RefMap, b: RefMap): boolean {
  return a.size === b.size && [...a].every(([ref, id]) => b.get(ref) === id);
}

/** The reason an atomic push gives the refs it refused only because another ref was refused. */
export const ATOMIC_COLLATERAL = /atomic (push|transaction) fail/;

/**
 * Why git refuses `ref` as a ref name (git check-ref-format's rules), or null when it takes it.
 * One such name in a push fails the whole push: a source that lists one has it left out.
 */
export function invalidRefName(ref: string): string | null {
  if (!ref.startsWith('refs/') || ref.endsWith('/') || ref.includes('//'))
    return 'not a full ref name';
  if (ref.includes('..')) return "it contains '..'";
  if (ref.includes('@{') || ref === '@') return "it contains '@{'";
  if ([...ref].some((c) => c <= ' ' || c === '\x7f') || /[~^:?*[\\]/.test(ref))
    return 'it contains a space, a control character or one of ~^:?*[\\';
  if (ref.endsWith('.')) return "it ends with '.'";
  for (const part of ref.split('/'))
    if (part.startsWith('.') || part.endsWith('.lock'))
      return "a component starts with '.' or ends with '.lock'";
  return null;
}
