import type { RefFilter } from './spec.js';

/** Full ref name -> commit (or tag object) id. */
export type RefMap = ReadonlyMap<string, string>;

export interface RefChange {
  readonly ref: string;
  /** null when the ref is created. */
  readonly old: string | null;
  /** null when the ref is deleted. */
  readonly new: string | null;
  /** An update the destination's history cannot fast-forward to (force-push upstream, moved tag). */
  readonly forced: boolean;
}

export interface MirrorPlan {
  readonly created: RefChange[];
  readonly updated: RefChange[];
  readonly deleted: RefChange[];
  /** Destination refs outside the mirrored set: never touched. */
  readonly untouched: string[];
}

export function isEmptyPlan(plan: MirrorPlan): boolean {
  return plan.created.length + plan.updated.length + plan.deleted.length === 0;
}

/**
 * What to push so the destination's mirrored refs equal the source's. Pure: `isAncestor(old, new)`
 * answers from the local copy whether an update is a fast-forward.
 */
export function planMirror(
  source: RefMap,
  destination: RefMap,
  filter: RefFilter,
  isAncestor: (oldId: string, newId: string) => boolean,
): MirrorPlan {
  const created: RefChange[] = [];
  const updated: RefChange[] = [];
  const deleted: RefChange[] = [];
  const untouched: string[] = [];
  for (const [ref, id] of [...source].sort(([a], [b]) => a.localeCompare(b))) {
    if (!filter.matches(ref)) continue;
    const old = destination.get(ref);
    if (old === undefined) created.push({ ref, old: null, new: id, forced: false });
    else if (old !== id) {
      const forced = ref.startsWith('refs/tags/') || !isAncestor(old, id);
      updated.push({ ref, old, new: id, forced });
    }
  }
  for (const [ref, id] of [...destination].sort(([a], [b]) => a.localeCompare(b))) {
    if (source.has(ref)) continue;
    if (filter.matches(ref)) deleted.push({ ref, old: id, new: null, forced: true });
    else untouched.push(ref);
  }
  return { created, updated, deleted, untouched };
}

/** Deletions and forced updates: what can lose history on the destination. */
export function destructiveChanges(plan: MirrorPlan): RefChange[] {
  return [...plan.deleted, ...plan.updated.filter((c) => c.forced)];
}

/**
 * How many destructive changes one run may make: a fraction of the destination's mirrored refs,
 * at least `floor` so a big repo can still lose a branch, but never more than half of them, so a
 * small repo (3 refs) cannot lose most of what it has without allow-destructive.
 */
export function destructiveLimit(destinationMirrored: number, fraction: number, floor = 2): number {
  const half = Math.floor(destinationMirrored / 2);
  return Math.min(half, Math.max(floor, Math.floor(destinationMirrored * fraction)));
}
