/**
 * git's smart HTTP protocol, spoken in-process: the few requests an incremental mirror needs
 * (protocol v2 `ls-refs` and `fetch` against the source's upload-pack; the receive-pack
 * advertisement and one push against the destination). No git process on this side, so a run
 * costs its round trips, not a dozen process starts.
 *
 * Every failure here is a `WireError`: the caller then takes git's own path, which is the
 * reference. Nothing here follows a redirect or sends credentials anywhere but the URL given.
 */

export class WireError extends Error {
  override readonly name = 'WireError';
}

/**
 * What a request may carry: an `Authorization` value for the destination, never for the source;
 * and a signal that calls it off.
 */
export interface WireAuth {
  readonly authorization?: string;
  readonly signal?: AbortSignal;
  /** The slowest a transfer may go (default LOW_SPEED, git's low-speed limit as the mirror sets it). */
  readonly lowSpeed?: LowSpeed;
}

/**
 * A transfer moving fewer than `bytes` a second, counted over each window of `seconds`, is given
 * up: git's http.lowSpeedLimit and http.lowSpeedTime. A server that trickles a byte now and then
 * is as stalled as one that sends nothing.
 */
export interface LowSpeed {
  readonly bytes: number;
  readonly seconds: number;
}
export const LOW_SPEED: LowSpeed = { bytes: 1000, seconds: 60 };

const AGENT = 'git/openstack-snap-actions';
const ZERO_ID = '0'.repeat(40);
/** A pack ends with the SHA-1 of what comes before. */
const TRAILER = 20;
/** A listing or a push's report this big is not one; a fetch sets its own limit. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// pkt-line

function pkt(line: string | Buffer): Buffer {
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}
const FLUSH = Buffer.from('0000');
const DELIM = Buffer.from('0001');

/** One pkt-line: its payload, or the special packet it is (flush, delim, response-end). */
type Packet = { kind: 'data'; data: Buffer } | { kind: 'flush' | 'delim' | 'end' };

/** Splits a response into packets; the rest after the last whole packet is returned too. */
function readPackets(buffer: Buffer): { packets: Packet[]; rest: number } {
  const packets: Packet[] = [];
  let at = 0;
  while (at + 4 <= buffer.length) {
    const hex = buffer.toString('latin1', at, at + 4);
    if (!/^[0-9a-f]{4}$/.test(hex)) throw new WireError(`not a pkt-line: ${JSON.stringify(hex)}`);
    const length = Number.parseInt(hex, 16);
    if (length < 4) {
      if (length === 3) throw new WireError('not a pkt-line: 0003');
      packets.push({ kind: length === 0 ? 'flush' : length === 1 ? 'delim' : 'end' });
      at += 4;
      continue;
    }
    if (at + length > buffer.length) break;
    packets.push({ kind: 'data', data: buffer.subarray(at + 4, at + length) });
    at += length;
  }
  return { packets, rest: at };
}

/** A whole response's packets: every byte a packet, the last a flush; else `what` is not one. */
function wholePackets(buffer: Buffer, what: string): Packet[] {
  const { packets, rest } = readPackets(buffer);
  if (rest !== buffer.length || packets.at(-1)?.kind !== 'flush') throw new WireError(what);
  return packets;
}

const text = (p: Packet): string =>
  p.kind === 'data' ? p.data.toString('utf8').replace(/\n$/, '') : '';

/**
 * A side-band packet's data: band 1's; none for band 2 (progress); what the remote said on band 3
 * is an error, told as `who` said it.
 */
function sideBand(packet: Buffer, who: string): Buffer | null {
  if (packet[0] === 3) throw new WireError(`${who} said ${packet.subarray(1).toString('utf8')}`);
  return packet[0] === 1 ? packet.subarray(1) : null;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * One HTTP request, its response streamed: chunks as they come, a transfer slower than the low
 * speed (auth.lowSpeed) or a response over `maxBytes` given up. A body given as chunks is streamed too; when it throws, the request
 * is aborted, so the server never takes a truncated body for a whole one.
 */
async function* stream(
  url: string,
  init: {
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: Buffer | AsyncIterable<Buffer>;
  },
  auth: WireAuth,
  maxBytes = MAX_RESPONSE_BYTES,
): AsyncGenerator<Buffer> {
  const controller = new AbortController();
  // Bytes either way count: a long upload of a pack is not a stall of the response.
  const lowSpeed = auth.lowSpeed ?? LOW_SPEED;
  let windowBytes = 0;
  let slow = '';
  const watch = setInterval(() => {
    if (windowBytes < lowSpeed.bytes * lowSpeed.seconds) {
      slow = `${new URL(url).host}: under ${lowSpeed.bytes} bytes a second for ${lowSpeed.seconds} s`;
      controller.abort();
    }
    windowBytes = 0;
  }, lowSpeed.seconds * 1000);
  const moved = (bytes: number): void => {
    windowBytes += bytes;
  };
  const callOff = (): void => controller.abort();
  auth.signal?.addEventListener('abort', callOff, { once: true });
  if (auth.signal?.aborted) controller.abort();
  const headers: Record<string, string> = { 'User-Agent': AGENT, ...init.headers };
  if (auth.authorization) headers.Authorization = auth.authorization;
  // A big body goes in slices, so its upload counts as moving (and is never one long silence).
  const send = (): Promise<Response> => {
    const chunks =
      Buffer.isBuffer(init.body) && init.body.length > SLICE ? slices(init.body) : init.body;
    const body =
      chunks === undefined || Buffer.isBuffer(chunks)
        ? chunks
        : ReadableStream.from(
            (async function* () {
              for await (const chunk of chunks) {
                moved(chunk.length);
                yield chunk;
              }
            })(),
          );
    return fetch(url, {
      method: init.method,
      headers,
      ...(body ? { body, duplex: 'half' as const } : {}),
      redirect: 'manual',
      signal: controller.signal,
    });
  };
  try {
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      // A kept-alive connection the server closed just as it was reused: sent again once on a
      // new one, as git's curl does, when the request only reads and its body can be sent again.
      const reads = init.method === 'GET' || url.endsWith('/git-upload-pack');
      const again = !(init.body && !Buffer.isBuffer(init.body)) && reads;
      if (!again || controller.signal.aborted || !droppedConnection(error)) throw error;
      response = await send();
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new WireError(`HTTP ${response.status} from ${new URL(url).pathname}`);
    }
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      moved(chunk.length);
      size += chunk.length;
      if (size > maxBytes) throw new WireError(`a response of more than ${maxBytes} bytes`);
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (error) {
    controller.abort();
    if (slow) throw new WireError(slow);
    if (error instanceof WireError) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    // What the body's own source said (a fetch that died under a push), as it said it.
    if (cause instanceof WireError) throw cause;
    throw new WireError(
      `${new URL(url).host}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
    );
  } finally {
    clearInterval(watch);
    auth.signal?.removeEventListener('abort', callOff);
    controller.abort();
  }
}

const SLICE = 64 * 1024;

/** A connection that died before the response began (reset, or closed under the request). */
function droppedConnection(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/** A buffer in slices of SLICE bytes. */
export function* slices(buffer: Buffer): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += SLICE) yield buffer.subarray(at, at + SLICE);
}

function request(...args: Parameters<typeof stream>): Promise<Buffer> {
  return collect(stream(...args));
}

/** `url` + `/suffix`, the way git appends its service paths (trailing slashes dropped). */
function serviceUrl(url: string, suffix: string): string {
  return `${url.replace(/\/+$/, '')}/${suffix}`;
}

/** A protocol v2 `command` with its `args` (lines), posted to upload-pack. */
function v2Request(
  url: string,
  command: string,
  args: readonly string[],
  auth: WireAuth,
  maxBytes?: number,
): AsyncGenerator<Buffer> {
  return stream(
    serviceUrl(url, 'git-upload-pack'),
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-git-upload-pack-request',
        Accept: 'application/x-git-upload-pack-result',
        'Git-Protocol': 'version=2',
      },
      body: Buffer.concat([
        pkt(`command=${command}\n`),
        pkt(`agent=${AGENT}\n`),
        DELIM,
        ...args.map((line) => pkt(`${line}\n`)),
        FLUSH,
      ]),
    },
    auth,
    maxBytes,
  );
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return Buffer.concat(all);
}

// ---------------------------------------------------------------------------------------------
// Listing and fetching from upload-pack (protocol v2)

/** A remote's branches and tags (tags as their tag objects), by protocol v2's `ls-refs`. */
export async function lsRefs(url: string, auth: WireAuth = {}): Promise<Map<string, string>> {
  const response = await collect(
    v2Request(url, 'ls-refs', ['ref-prefix refs/heads/', 'ref-prefix refs/tags/'], auth),
  );
  const packets = wholePackets(
    response,
    'ls-refs: the response is not a complete protocol v2 listing',
  );
  const refs = new Map<string, string>();
  for (const packet of packets.slice(0, -1)) {
    const line = text(packet);
    const match = /^([0-9a-f]{40}) (refs\/(?:heads|tags)\/\S+)(?: .*)?$/.exec(line);
    // Anything else (an ERR, a v0 advertisement from a server without v2) is not a listing.
    if (!match)
      throw new WireError(`ls-refs: unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    refs.set(match[2]!, match[1]!);
  }
  return refs;
}

/**
 * One protocol v2 fetch, negotiated in a single round (`done`): the objects reachable from
 * `wants` and not from `haves`, as a thin pack (deltas may refer to objects the haves reach).
 * Yields the pack's bytes as they come; a response over `maxBytes` is given up.
 */
export function streamPack(
  url: string,
  wants: readonly string[],
  haves: readonly string[],
  auth: WireAuth = {},
  maxBytes?: number,
): AsyncGenerator<Buffer> {
  return packData(
    v2Request(
      url,
      'fetch',
      [
        ...(haves.length > 0 ? ['thin-pack'] : []),
        'ofs-delta',
        'no-progress',
        ...wants.map((id) => `want ${id}`),
        ...haves.map((id) => `have ${id}`),
        'done',
      ],
      auth,
      maxBytes,
    ),
  );
}

/** The same fetch, its pack whole. */
export function fetchPack(...args: Parameters<typeof streamPack>): Promise<Buffer> {
  return collect(streamPack(...args));
}

/**
 * The pack in a v2 fetch response: the `packfile` section's band-1 data, as it comes. An error
 * the server sends (band 3 or ERR), or a response that ends before the section's flush, throws.
 */
async function* packData(response: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let buffer: Buffer = Buffer.alloc(0);
  let inPack = false;
  let first = '';
  let held: Buffer = Buffer.alloc(0);
  for await (const chunk of response) {
    buffer = buffer.length > 0 ? Buffer.concat([buffer, chunk]) : chunk;
    const { packets, rest } = readPackets(buffer);
    buffer = buffer.subarray(rest);
    for (const packet of packets) {
      if (!inPack) {
        const line = text(packet);
        if (line === 'packfile') inPack = true;
        else if (line.startsWith('ERR ')) throw new WireError(`fetch: the source said ${line}`);
        else first ||= line;
        continue;
      }
      if (packet.kind === 'flush') {
        // The response is whole: now the pack's last bytes go too.
        yield held;
        return;
      }
      if (packet.kind !== 'data') throw new WireError('fetch: a packet out of place in the pack');
      const data = sideBand(packet.data, 'fetch: the source');
      if (data) {
        // The last 20 bytes (the pack's checksum, at its end) are held until the response's
        // closing flush: a consumer that streams the pack on (a spool, or a push) never sends a
        // whole pack from a response that ended early.
        const joined = Buffer.concat([held, data]);
        held = joined.subarray(Math.max(0, joined.length - TRAILER));
        yield joined.subarray(0, joined.length - held.length);
      }
    }
  }
  throw new WireError(
    inPack
      ? 'fetch: the pack ended early'
      : `fetch: no packfile in the response (${first.slice(0, 200)})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Listing and pushing to receive-pack

export interface ReceivePackAdvertisement {
  readonly refs: Map<string, string>;
  readonly capabilities: ReadonlySet<string>;
}

/** The destination's branches and tags and its push capabilities, in the one GET a push begins with. */
export async function receivePackRefs(
  url: string,
  auth: WireAuth,
): Promise<ReceivePackAdvertisement> {
  const response = await request(
    serviceUrl(url, 'info/refs?service=git-receive-pack'),
    { method: 'GET', headers: { Accept: 'application/x-git-receive-pack-advertisement' } },
    auth,
  );
  const whole = 'receive-pack: not a whole smart HTTP advertisement';
  const packets = wholePackets(response, whole);
  if (text(packets[0]!) !== '# service=git-receive-pack') throw new WireError(whole);
  const refs = new Map<string, string>();
  let capabilities = new Set<string>();
  let first = true;
  for (const packet of packets.slice(1)) {
    if (packet.kind !== 'data') continue;
    let line = text(packet);
    if (first) {
      const nul = line.indexOf('\0');
      if (nul < 0) throw new WireError('receive-pack: no capabilities advertised');
      capabilities = new Set(
        line
          .slice(nul + 1)
          .split(' ')
          .filter(Boolean),
      );
      line = line.slice(0, nul);
      first = false;
    }
    const [id, ref] = line.split(' ');
    if (id && ref && /^[0-9a-f]{40}$/.test(id) && /^refs\/(heads|tags)\//.test(ref))
      refs.set(ref, id);
  }
  if (first) throw new WireError('receive-pack: an empty advertisement');
  return { refs, capabilities };
}

export interface RefUpdate {
  readonly ref: string;
  /** The lease: what the ref must still be (null: it must not exist). */
  readonly old: string | null;
  /** null deletes it. */
  readonly new: string | null;
}

/** The capabilities a push of `updates` needs. */
function neededCapabilities(updates: readonly RefUpdate[]): string[] {
  return [
    'report-status',
    'atomic',
    ...(updates.some((u) => u.new !== null) ? ['ofs-delta'] : []),
    ...(updates.some((u) => u.new === null) ? ['delete-refs'] : []),
  ];
}

/** The capabilities a push of `updates` needs that `advertised` lacks. */
export function missingCapabilities(
  advertised: ReadonlySet<string>,
  updates: readonly RefUpdate[],
): string[] {
  return neededCapabilities(updates).filter((c) => !advertised.has(c));
}

/**
 * One atomic push of `updates` with `pack`: every ref leased on its `old`, all or none. Returns
 * the refs the destination refused with its reasons (empty: every update landed).
 */
export async function receivePack(
  url: string,
  auth: WireAuth,
  advertised: ReadonlySet<string>,
  updates: readonly RefUpdate[],
  pack: Buffer | AsyncIterable<Buffer> | null,
): Promise<{ ref: string; reason: string }[]> {
  const missing = missingCapabilities(advertised, updates);
  if (missing.length > 0) throw new WireError(`receive-pack lacks ${missing.join(', ')}`);
  // With side-band, a destination busy with a big pack sends keepalives while it works.
  const sideBandOn = advertised.has('side-band-64k');
  const capabilities = [
    ...neededCapabilities(updates),
    ...(sideBandOn ? ['side-band-64k'] : []),
    ...(advertised.has('quiet') ? ['quiet'] : []),
    `agent=${AGENT}`,
  ];
  const commands = updates.map((u, i) =>
    pkt(
      `${u.old ?? ZERO_ID} ${u.new ?? ZERO_ID} ${u.ref}${i === 0 ? `\0${capabilities.join(' ')}` : ''}\n`,
    ),
  );
  const response = await request(
    serviceUrl(url, 'git-receive-pack'),
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-git-receive-pack-request',
        Accept: 'application/x-git-receive-pack-result',
      },
      body:
        pack === null || Buffer.isBuffer(pack)
          ? Buffer.concat([...commands, FLUSH, ...(pack ? [pack] : [])])
          : (async function* () {
              yield Buffer.concat([...commands, FLUSH]);
              yield* pack;
            })(),
    },
    auth,
  );
  const report = sideBandOn ? demultiplex(response) : response;
  const lines = wholePackets(report, 'the destination did not report whole').map(text);
  const unpack = lines.find((l) => l.startsWith('unpack '));
  if (unpack !== 'unpack ok')
    throw new WireError(`the destination did not take the pack (${unpack ?? 'no report'})`);
  const refused: { ref: string; reason: string }[] = [];
  const reported = new Set<string>();
  for (const line of lines) {
    const ok = /^ok (\S+)$/.exec(line);
    const ng = /^ng (\S+) (.*)$/.exec(line);
    if (ok) reported.add(ok[1]!);
    if (ng) {
      reported.add(ng[1]!);
      refused.push({ ref: ng[1]!, reason: ng[2]! });
    }
  }
  const unreported = updates.filter((u) => !reported.has(u.ref));
  if (unreported.length > 0)
    throw new WireError(`the destination did not report on ${unreported[0]!.ref}`);
  return refused;
}

/** Band 1 of a side-band response, whole; what the destination said on band 3 is an error. */
function demultiplex(response: Buffer): Buffer {
  const data: Buffer[] = [];
  for (const packet of readPackets(response).packets) {
    if (packet.kind !== 'data') continue;
    const band = sideBand(packet.data, 'the destination');
    if (band) data.push(band);
  }
  return Buffer.concat(data);
}
