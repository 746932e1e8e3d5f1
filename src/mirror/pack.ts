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

const TYPES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

interface Entry {
  readonly offset: number;
  type: number;
  data: Buffer;
  readonly baseOffset?: number;
  readonly baseId?: string;
  resolved: boolean;
}

export interface PackCommits {
  /** Commit id -> its parents, for every commit the pack holds (deltas resolved). */
  readonly commits: ReadonlyMap<string, readonly string[]>;
  readonly objects: number;
}

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

  const entries: Entry[] = [];
  const byOffset = new Map<number, Entry>();
  let at = 12;
  for (let n = 0; n < count; n++) {
    const offset = at;
    if (at >= body) throw new PackError('the pack ends before its last object');
    let byte = pack[at++]!;
    const type = (byte >> 4) & 7;
    while (byte & 0x80) byte = pack[at++]!;
    let baseOffset: number | undefined;
    let baseId: string | undefined;
    if (type === OFS_DELTA) {
      byte = pack[at++]!;
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = pack[at++]!;
        distance = ((distance + 1) << 7) | (byte & 0x7f);
      }
      baseOffset = offset - distance;
    } else if (type === REF_DELTA) {
      baseId = pack.toString('hex', at, at + 20);
      at += 20;
    } else if (!TYPES[type]) throw new PackError(`object type ${type} at ${offset}`);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      inflated = inflateSync(pack.subarray(at, body), { info: true }) as unknown as typeof inflated;
    } catch (error) {
      throw new PackError(`object at ${offset} does not inflate: ${(error as Error).message}`);
    }
    at += inflated.engine.bytesWritten;
    const entry: Entry = {
      offset,
      type,
      data: inflated.buffer,
      ...(baseOffset !== undefined ? { baseOffset } : {}),
      ...(baseId !== undefined ? { baseId } : {}),
      resolved: !!TYPES[type],
    };
    entries.push(entry);
    byOffset.set(offset, entry);
  }
  if (at !== body) throw new PackError('the pack has bytes after its last object');

  // Resolve the deltas whose bases are in the pack; a thin pack's other deltas stay unresolved
  // (their bases are at the destination), and whatever they are, they are not read here.
  const byId = new Map<string, Entry>();
  const idOf = (e: Entry): string =>
    createHash('sha1').update(`${TYPES[e.type]} ${e.data.length}\0`).update(e.data).digest('hex');
  for (const e of entries) if (e.resolved) byId.set(idOf(e), e);
  for (let progress = true; progress;) {
    progress = false;
    for (const e of entries) {
      if (e.resolved) continue;
      const base = e.baseOffset !== undefined ? byOffset.get(e.baseOffset) : byId.get(e.baseId!);
      if (!base?.resolved) continue;
      e.data = applyDelta(base.data, e.data);
      e.type = base.type;
      e.resolved = true;
      byId.set(idOf(e), e);
      progress = true;
    }
  }
  const commits = new Map<string, string[]>();
  for (const [id, e] of byId) {
    if (e.type !== 1) continue;
    const head = e.data.toString('latin1', 0, Math.max(0, e.data.indexOf('\n\n')));
    commits.set(
      id,
      head
        .split('\n')
        .filter((l) => l.startsWith('parent '))
        .map((l) => l.slice('parent '.length)),
    );
  }
  return { commits, objects: count };
}

/** git's delta format: the sizes, then copy-from-base and insert instructions. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
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
