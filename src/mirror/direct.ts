import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
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
  | {
      kind: 'fallback';
      why: string;
      /** The push may have reached the destination: what it holds is listed afresh. */
      pushed: boolean;
      plan?: MirrorPlan;
      /** The in-process fetch failed: the source is listed afresh too (through git). */
      refetch?: boolean;
    };

/**
 * The change, straight from the source to the destination, with no copy and no git process on
 * this side. One protocol v2 fetch wants the source's new ids and has the destination's tips of
 * the refs that change (baseRefs), so the source sends only what is new, as a thin pack whose
 * bases the destination holds. One atomic push sends that pack, every ref leased on the id the
 * destination advertised.
 *
 * The push is opened only once its pack is here and judged, and then sent without a pause:
 * GitHub cuts off (HTTP 408) a push whose body stops for a few seconds, which a push opened while
 * the fetch was still under way would do. A change's pack is read whole in memory (checksum,
 * object count, commits); a first mirror's, which may be the whole repository, is spooled to a
 * file in the work dir (at most `spoolBytes`), its checksum checked as it is written, and pushed
 * from there; the file is removed when the push ends.
 *
 * The safety git's path gives holds here too. A pack that does not arrive whole is never pushed.
 * The push is atomic and leased, so a destination that moved since its listing takes none of it.
 * The destination's receive-pack checks that the new refs' history is whole before it updates
 * any. A branch update counts as a fast-forward only when the pack's commits lead from the new id
 * to the old one (parents read as git reads them); what this cannot prove (a rewind, a branch
 * moved to a commit the destination already has) is left to git, as are refusals, so their
 * reports are git's. The destructive guard is the same function.
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
    // A first mirror: every ref is created, so there is no update to prove and nothing to delete.
    const plan = planMirror(upstream, destination, options.filter, () => false);
    if (wants.length === 0) return push(plan, EMPTY_PACK, 'push');
    const spool = join(options.workDir, `${pair.slug}.pack`);
    try {
      const spooled = await timed('fetch', () =>
        spoolPack(
          streamPack(
            pair.source,
            wants,
            [],
            { signal: auth.signal, lowSpeed: auth.lowSpeed },
            Infinity,
          ),
          spool,
          spoolBytes(options),
        ),
      );
      if (typeof spooled === 'string')
        return { kind: 'fallback', why: spooled, pushed: false, refetch: true };
      return await push(plan, fileChunks(spool), 'push');
    } finally {
      rmSync(spool, { force: true });
    }
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
  // The pack, whole and judged, before the push is opened: then nothing holds its body up.
  let pack: Buffer;
  let commits: ReadonlyMap<string, readonly string[]>;
  try {
    // A change too big to read here (more than the pack reader takes) is left to git.
    pack = await timed('fetch', () =>
      fetchPack(
        pair.source,
        wants,
        haves,
        { signal: auth.signal, lowSpeed: auth.lowSpeed },
        MAX_READ_PACK_BYTES + 64 * 1024,
      ),
    );
    commits = await timed('check', async () => readPackCommits(pack).commits);
  } catch (error) {
    if (!(error instanceof WireError || error instanceof PackError)) throw error;
    return {
      kind: 'fallback',
      why: `fetch in-process: ${error.message}`,
      pushed: false,
      refetch: true,
    };
  }
  const verdict = judge(commits);
  if (verdict.kind !== 'done' || verdict.refusal) return verdict;
  const pushed = await push(verdict.plan, pack, 'push');
  return pushed.kind === 'done' ? { ...pushed, plan: verdict.plan } : pushed;
}

/** A pack of no objects: what a push whose new ids the destination has already sends. */
export const EMPTY_PACK = ((): Buffer => {
  const head = Buffer.from('5041434b0000000200000000', 'hex');
  return Buffer.concat([head, createHash('sha1').update(head).digest()]);
})();

/** How big a first mirror's pack may be spooled (MirrorOptions.spoolBytes; 4 GiB by default). */
function spoolBytes(options: MirrorOptions): number {
  return options.spoolBytes ?? 4 * 1024 ** 3;
}

/**
 * Writes a pack as it comes to `file`, checking as it goes that it is one: a PACK header, at most
 * `maxBytes`, and a trailing SHA-1 of everything before it. Returns why not, or null when it is
 * whole. (The stream holds its last 20 bytes back until the source's response ended as it
 * should, so a source that died midway leaves a pack whose checksum cannot match.)
 */
export async function spoolPack(
  chunks: AsyncIterable<Buffer>,
  file: string,
  maxBytes: number,
): Promise<string | null> {
  const out = createWriteStream(file);
  const hash = createHash('sha1');
  let size = 0;
  let tail: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > maxBytes) return `a first mirror's pack of more than ${maxBytes} bytes`;
      // All but the last 20 bytes seen so far go into the checksum.
      const joined = Buffer.concat([tail, chunk]);
      const body = joined.subarray(0, Math.max(0, joined.length - 20));
      tail = joined.subarray(body.length);
      hash.update(body);
      if (!out.write(chunk))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } catch (error) {
    if (error instanceof WireError) return `fetch in-process: ${error.message}`;
    throw error;
  } finally {
    await new Promise<void>((resolve, reject) =>
      out.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
  }
  if (size < 32) return 'fetch in-process: no pack';
  if (!hash.digest().equals(tail)) return "fetch in-process: the pack's checksum does not match";
  return null;
}

/** A file's bytes in 64 KiB chunks, read ahead of the push so its body never waits. */
async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }))
    yield chunk as Buffer;
}
