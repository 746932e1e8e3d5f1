/**
 * Reads the commits of a (small, possibly thin) pack: enough to prove that a branch update is a
 * fast-forward without a local repository. Checks the pack's checksum and object count, so a
 * truncated or corrupt pack is never taken for a whole one.
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';

export class PackError extends Error {
  override readonly name = 'PackError';
}

/** Packs bigger than this are not read here (the caller leaves them to git). */
export const MAX_READ_PACK_BYTES = 32 * 1024 * 1024;
/** Nor packs with an object that inflates to more than this (a few bytes can say gigabytes). */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

const TYPES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

/** What the reader keeps of an object: its type (a delta's is its base's) and a commit's data. */
interface Entry {
  /** 1 to 4; 0 for a delta whose base was not read (a thin pack's, or not a commit kept). */
  readonly type: number;
  /** A commit's content (for a delta, once applied); nothing else is kept. */
  readonly data?: Buffer;
}

export interface PackCommits {
  /** Commit id -> its parents, for every commit the pack holds (deltas resolved). */
  readonly commits: ReadonlyMap<string, readonly string[]>;
}

/**
 * Reads a pack once, in order: every object is inflated to find where the next begins, but only
 * commits are kept. A delta's type is its base's, and its base comes before it, so one pass
 * resolves the commits; a delta on a base outside the pack (a thin pack's) stays unread,
 * whatever it is. Every object inflates to the size its header declares, at most
 * MAX_OBJECT_BYTES. Memory is the commits' size and one object; time is linear in the pack.
 */
export function readPackCommits(pack: Buffer): PackCommits {
  if (pack.length > MAX_READ_PACK_BYTES) throw new PackError('the pack is too big to read here');
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK')
    throw new PackError('not a pack');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new PackError(`pack version ${version}`);
  const count = pack.readUInt32BE(8);
  const body = pack.length - 20;
  const sum = createHash('sha1').update(pack.subarray(0, body)).digest();
  if (!sum.equals(pack.subarray(body))) throw new PackError('the pack checksum does not match');

  const byOffset = new Map<number, Entry>();
  const commits = new Map<string, string[]>();
  const commitData = new Map<string, Buffer>();
  let kept = 0;
  let at = 12;
  for (let n = 0; n < count; n++) {
    const offset = at;
    if (at >= body) throw new PackError('the pack ends before its last object');
    let byte = pack[at++]!;
    const type = (byte >> 4) & 7;
    // The size the object (or the delta) inflates to, as its header declares it.
    let size = byte & 0x0f;
    for (let shift = 4; byte & 0x80; shift += 7) {
      byte = pack[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
    }
    if (size > MAX_OBJECT_BYTES)
      throw new PackError(`an object of ${size} bytes at ${offset}: too big to read here`);
    let base: Entry | undefined;
    let baseId: string | undefined;
    if (type === OFS_DELTA) {
      byte = pack[at++]!;
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = pack[at++]!;
        distance = ((distance + 1) << 7) | (byte & 0x7f);
      }
      base = byOffset.get(offset - distance);
      if (!base) throw new PackError(`a delta at ${offset} on no object of the pack`);
    } else if (type === REF_DELTA) {
      baseId = pack.toString('hex', at, at + 20);
      at += 20;
    } else if (!TYPES[type]) throw new PackError(`object type ${type} at ${offset}`);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      inflated = inflateSync(pack.subarray(at, body), {
        info: true,
        maxOutputLength: Math.max(1, size),
      }) as unknown as typeof inflated;
    } catch (error) {
      throw new PackError(`object at ${offset} does not inflate: ${(error as Error).message}`);
    }
    if (inflated.buffer.length !== size)
      throw new PackError(`object at ${offset} is not the size its header declares`);
    at += inflated.engine.bytesWritten;
    // A ref delta on a commit read before it is a commit; on anything else (a thin pack's base
    // at the destination, or an object of the pack not kept) it stays unread.
    if (baseId !== undefined) {
      const commit = commitData.get(baseId);
      base = commit ? { type: 1, data: commit } : { type: 0 };
    }
    let entry: Entry;
    if (base) {
      entry =
        base.type === 1 && base.data
          ? { type: 1, data: applyDelta(base.data, inflated.buffer) }
          : { type: base.type };
    } else entry = type === 1 ? { type, data: inflated.buffer } : { type };
    if (entry.data) {
      kept += entry.data.length;
      if (kept > MAX_READ_PACK_BYTES) throw new PackError('the pack holds too much to read here');
      const id = createHash('sha1')
        .update(`commit ${entry.data.length}\0`)
        .update(entry.data)
        .digest('hex');
      commits.set(id, parents(entry.data));
      commitData.set(id, entry.data);
    }
    byOffset.set(offset, entry);
  }
  if (at !== body) throw new PackError('the pack has bytes after its last object');
  return { commits };
}

/**
 * A commit's parents as git reads them: the `parent` lines that follow its `tree` line, and only
 * those (a `parent` line anywhere else in the header is not a parent).
 */
function parents(commit: Buffer): string[] {
  const lines = commit.toString('latin1', 0, Math.min(commit.length, 64 * 1024)).split('\n');
  if (!/^tree [0-9a-f]{40}$/.test(lines[0] ?? '')) throw new PackError('a commit without a tree');
  const found: string[] = [];
  for (const line of lines.slice(1)) {
    const match = /^parent ([0-9a-f]{40})$/.exec(line);
    if (!match) break;
    found.push(match[1]!);
  }
  return found;
}

/** git's delta format: the sizes, then copy-from-base and insert instructions. */
function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const size = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  if (size() !== base.length) throw new PackError('a delta against a base of another size');
  const out = Buffer.alloc(size());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++]!;
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset |= delta[at++]! << (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) length |= delta[at++]! << (8 * i);
      if (length === 0) length = 0x10000;
      offset >>>= 0;
      if (offset + length > base.length || written + length > out.length)
        throw new PackError('a delta copies outside its base');
      base.copy(out, written, offset, offset + length);
      written += length;
    } else if (op > 0) {
      if (written + op > out.length || at + op > delta.length)
        throw new PackError('a delta inserts past its end');
      delta.copy(out, written, at, at + op);
      written += op;
      at += op;
    } else throw new PackError('a delta with a reserved instruction');
  }
  if (written !== out.length) throw new PackError('a delta short of its size');
  return out;
}

/**
 * Whether the pack proves `next` descends from `old`: a chain of the pack's commits from `next`
 * reaches `old`. False means "not proven" (the chain may leave the pack above `old`), never "not
 * a fast-forward"; the caller asks git then.
 */
export function provesFastForward(
  commits: ReadonlyMap<string, readonly string[]>,
  old: string,
  next: string,
): boolean {
  const seen = new Set<string>();
  const stack = [next];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === old) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(commits.get(id) ?? []));
  }
  return false;
}
