import { createHash } from 'node:crypto';
import type { MirrorOptions } from './mirror.js';
import { MAX_READ_PACK_BYTES, PackError, provesFastForward, readPackCommits } from './pack.js';
import { planMirror, type MirrorPlan, type RefMap } from './plan.js';
import {
  ATOMIC_COLLATERAL,
  baseRefs,
  destructiveRefusal,
  filtered,
  orderedChanges,
} from './refs.js';
import {
  fetchPack,
  missingCapabilities,
  receivePack,
  streamPack,
  WireError,
  type ReceivePackAdvertisement,
  type WireAuth,
} from './smart-http.js';
import type { MirrorPair } from './spec.js';

export type Direct =
  | { kind: 'done'; plan: MirrorPlan; fetched: boolean; refusal?: string }
  | { kind: 'fallback'; why: string; pushed: boolean; plan?: MirrorPlan };

/**
 * The change, straight from the source to the destination, with no copy and no git process on
 * this side. One protocol v2 fetch wants the source's new ids and has the destination's tips of
 * the refs that change (baseRefs), so the source sends only what is new, as a thin pack whose
 * bases the destination holds. One atomic push sends that pack, every ref leased on the id the
 * destination advertised; it is opened while the pack is on its way. A first mirror streams the
 * source's pack into the push as it comes.
 *
 * The safety git's path gives holds here too. A change's pack is read whole (checksum, object
 * count, commits) before it goes on; a relayed first mirror's last 20 bytes, the pack's checksum,
 * go only once the source's response has ended as it should. A push whose pack does not arrive
 * whole is never carried out, so a fetch that died pushes nothing. The push is atomic and leased,
 * so a destination that moved since its listing takes none of it. The destination's receive-pack
 * checks that the new refs' history is whole before it updates any. A branch update counts as a
 * fast-forward only when the pack's commits lead from the new id to the old one (parents read as
 * git reads them); what this cannot prove (a rewind, a branch moved to a commit the destination
 * already has) is left to git, as are refusals, so their reports are git's. The destructive
 * guard is the same function.
 */
export async function mirrorDirect(
  pair: MirrorPair,
  auth: WireAuth,
  advertisement: ReceivePackAdvertisement,
  upstream: RefMap,
  options: MirrorOptions,
  timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>,
): Promise<Direct> {
  const destination = advertisement.refs;
  const mirrored = filtered(upstream, options.filter);
  const mirroredAtDestination = filtered(destination, options.filter).size;
  const held = new Set(destination.values());
  const changed = [...mirrored].filter(([ref, id]) => destination.get(ref) !== id);
  // What the destination holds as a tip already (a branch cut where another stands) is not asked for.
  const wants = [...new Set(changed.map(([, id]) => id))].filter((id) => !held.has(id));
  // The refs and ids to set do not depend on the judgement of the pack, only `forced` does.
  const commands = planMirror(upstream, destination, options.filter, () => true);
  const lacking = missingCapabilities(advertisement.capabilities, orderedChanges(commands));
  if (lacking.length > 0)
    return { kind: 'fallback', why: `the destination lacks ${lacking.join(', ')}`, pushed: false };
  const push = async (
    plan: MirrorPlan,
    pack: Buffer | AsyncIterable<Buffer> | null,
    phase: string,
  ): Promise<Direct> => {
    try {
      const refused = await timed(phase, () =>
        receivePack(pair.destination, auth, advertisement.capabilities, orderedChanges(plan), pack),
      );
      const culprits = refused.filter((r) => !ATOMIC_COLLATERAL.test(r.reason));
      if (refused.length > 0)
        return {
          kind: 'fallback',
          why: `the destination refused ${(culprits.length > 0 ? culprits : refused).map((r) => `${r.ref} (${r.reason})`).join(', ')}`,
          pushed: true,
          plan,
        };
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      return { kind: 'fallback', why: `${phase} in-process: ${error.message}`, pushed: true, plan };
    }
    return { kind: 'done', plan, fetched: wants.length > 0 };
  };
  if (mirroredAtDestination === 0) {
    // A first mirror: every ref is created, so there is no update to prove and nothing to delete,
    // and the source's pack goes on to the destination as it comes, never whole on this runner.
    // A source that dies midway cuts the push short, and the destination takes none of it.
    const plan = planMirror(upstream, destination, options.filter, () => false);
    return push(
      plan,
      wants.length > 0 ? streamPack(pair.source, wants, [], {}, Infinity) : EMPTY_PACK,
      'relay',
    );
  }
  const haves = [
    ...new Set([...baseRefs(mirrored, destination)].map((ref) => destination.get(ref)!)),
  ];
  const judge = (commits: ReadonlyMap<string, readonly string[]>): Direct => {
    const plan = planMirror(upstream, destination, options.filter, (old, next) =>
      provesFastForward(commits, old, next),
    );
    const unproven = plan.updated.find((c) => c.forced && c.ref.startsWith('refs/heads/'));
    if (unproven)
      return {
        kind: 'fallback',
        why: `${unproven.ref} is not shown a fast-forward by the pack`,
        pushed: false,
      };
    const refusal = destructiveRefusal(plan, mirroredAtDestination, options);
    return { kind: 'done', plan, fetched: wants.length > 0, ...(refusal ? { refusal } : {}) };
  };
  if (wants.length === 0) {
    // Deletions, and refs set to ids the destination has: judged before anything is sent (a
    // push of deletions alone is carried out as soon as its commands arrive).
    const verdict = judge(new Map());
    if (verdict.kind !== 'done' || verdict.refusal) return verdict;
    return push(verdict.plan, changed.length > 0 ? EMPTY_PACK : null, 'push');
  }
  // The push is opened while the source's pack is on its way: its commands go first (they are
  // the same whatever the judgement), and the pack follows once it has been read and judged.
  // A judgement against it, or a fetch that failed, cuts the push short before any pack arrives:
  // the destination carries out no command of a push whose pack never came.
  const fetching = timed('fetch', () =>
    // A change too big to read here (more than the pack reader takes) is left to git.
    fetchPack(pair.source, wants, haves, {}, MAX_READ_PACK_BYTES + 64 * 1024),
  );
  fetching.catch(() => {});
  let heldBack: Direct | undefined;
  let judged: Direct | undefined;
  async function* judgedPack(): AsyncGenerator<Buffer> {
    let pack: Buffer;
    let commits: ReadonlyMap<string, readonly string[]>;
    try {
      pack = await fetching;
      commits = await timed('check', async () => readPackCommits(pack).commits);
    } catch (error) {
      if (!(error instanceof WireError || error instanceof PackError)) throw error;
      heldBack = { kind: 'fallback', why: `fetch in-process: ${error.message}`, pushed: false };
      throw new WireError('held back');
    }
    judged = judge(commits);
    if (judged.kind !== 'done' || judged.refusal) {
      heldBack = judged;
      throw new WireError('held back');
    }
    // In slices: a stall is a time in which no slice goes, however slow the link.
    for (let at = 0; at < pack.length; at += 64 * 1024) yield pack.subarray(at, at + 64 * 1024);
  }
  const pushed = await push(commands, judgedPack(), 'push');
  // Nothing of this run goes on behind it (a push that failed before it read the pack).
  await fetching.catch(() => {});
  if (heldBack) return heldBack;
  return pushed.kind === 'done' && judged?.kind === 'done'
    ? { ...pushed, plan: judged.plan }
    : pushed;
}

/** A pack of no objects: what a push whose new ids the destination has already sends. */
export const EMPTY_PACK = ((): Buffer => {
  const head = Buffer.from('5041434b0000000200000000', 'hex');
  return Buffer.concat([head, createHash('sha1').update(head).digest()]);
})();
