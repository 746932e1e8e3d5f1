import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ConfigurationError,
  ExternalError,
  isRetryable,
  type RetryPolicy,
  withRetries,
} from '../platform/index.js';
import { parseChannel } from './channel.js';

export const DEFAULT_STORE_API = 'https://api.snapcraft.io';

/** One revision of a snap in a channel, for one architecture, as the store's info API lists it. */
export interface StoreRevision {
  readonly name: string;
  readonly revision: number;
  readonly version: string;
  readonly arch: string;
  readonly channel: string;
  readonly url: string;
  readonly sha3_384: string;
  readonly size: number;
}

interface ChannelMapEntry {
  channel: { architecture: string; name: string; track: string; risk: string };
  revision: number;
  version: string;
  download: { url: string; 'sha3-384': string; size: number };
}

/**
 * What `channel` of snap `name` holds for `arch`, from the store's public info API
 * (GET /v2/snaps/info/<name>, no credentials). Any architecture can be asked for, which is how an
 * amd64 runner fetches snapcraft for an emulated arm64 container without snapd.
 */
async function resolveOnce(options: {
  readonly name: string;
  readonly channel: string;
  readonly arch: string;
  readonly api?: string;
}): Promise<StoreRevision> {
  const { track, risk } = parseChannel(options.channel);
  const api = (options.api ?? DEFAULT_STORE_API).replace(/\/+$/, '');
  const url = `${api}/v2/snaps/info/${encodeURIComponent(options.name)}?fields=revision,version,download&architecture=${options.arch}`;
  const response = await fetch(url, {
    headers: { 'Snap-Device-Series': '16', 'Snap-Device-Architecture': options.arch },
  }).catch((error: unknown) => {
    throw new TransientStoreError(
      `cannot reach the Snap Store at ${api} for ${options.name} (${networkReason(error)}): ` +
        `check the runner's network, or point 'store-api' at a store proxy`,
    );
  });
  if (response.status === 404)
    throw new ConfigurationError(`The Snap Store has no snap called '${options.name}'.`);
  if (!response.ok)
    throw new ExternalError(
      `the Snap Store's info API answered ${response.status} for ${options.name} (${api})`,
      { retryable: response.status >= 500 || response.status === 429 },
    );
  const body = (await response.json()) as { 'channel-map'?: ChannelMapEntry[] };
  const entries = body['channel-map'] ?? [];
  const entry = entries.find(
    (e) =>
      e.channel.architecture === options.arch &&
      e.channel.track === track &&
      e.channel.risk === risk,
  );
  if (!entry) {
    const offered = [
      ...new Set(
        entries
          .filter((e) => e.channel.architecture === options.arch)
          .map((e) => `${e.channel.track}/${e.channel.risk}`),
      ),
    ];
    throw new ConfigurationError(
      `${options.name} has nothing in ${track}/${risk} for ${options.arch}` +
        (offered.length ? ` (it has ${offered.join(', ')}): pick one of those.` : '.'),
    );
  }
  return {
    name: options.name,
    revision: entry.revision,
    version: entry.version,
    arch: options.arch,
    channel: `${track}/${risk}`,
    url: entry.download.url,
    sha3_384: entry.download['sha3-384'],
    size: entry.download.size,
  };
}

/**
 * Downloads a revision into `dir` as <name>_<revision>.snap, streaming, and refuses it unless its
 * size and SHA3-384 are the ones the store published. Returns the file's path.
 */
async function downloadOnce(rev: StoreRevision, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rev.name}_${rev.revision}.snap`);
  const partial = `${file}.partial`;
  const response = await fetch(rev.url).catch((error: unknown) => {
    throw new TransientStoreError(
      `downloading ${rev.name} revision ${rev.revision}: ${networkReason(error)}`,
    );
  });
  if (!response.ok || !response.body)
    throw new ExternalError(
      `downloading ${rev.name} revision ${rev.revision}: HTTP ${response.status}`,
      { retryable: response.status >= 500 || response.status === 429 },
    );
  const hash = createHash('sha3-384');
  let size = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  await pipeline(body, createWriteStream(partial)).catch((error: unknown) => {
    rmSync(partial, { force: true });
    throw new TransientStoreError(
      `downloading ${rev.name} revision ${rev.revision}: ${networkReason(error)}`,
    );
  });
  const digest = hash.digest('hex');
  if (size !== rev.size || digest !== rev.sha3_384) {
    rmSync(partial, { force: true });
    throw new ExternalError(
      `${rev.name} revision ${rev.revision} did not download intact: ${size} bytes with SHA3-384 ` +
        `${digest.slice(0, 16)}…, the store published ${rev.size} bytes with ${rev.sha3_384.slice(0, 16)}…`,
    );
  }
  renameSync(partial, file);
  return file;
}

/** A dropped connection or a 5xx is worth another try; a bad channel or checksum is not. */
class TransientStoreError extends ExternalError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

const STORE_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 8000 };

/** resolveOnce, retried over dropped connections and 5xx answers. */
export function resolveStoreRevision(
  options: Parameters<typeof resolveOnce>[0],
  retry: RetryPolicy = STORE_RETRY,
): Promise<StoreRevision> {
  return withRetries(retry, () => resolveOnce(options), isRetryable);
}

/** downloadOnce, retried over dropped connections and 5xx answers. */
export function downloadStoreRevision(
  rev: StoreRevision,
  dir: string,
  retry: RetryPolicy = STORE_RETRY,
): Promise<string> {
  return withRetries(retry, () => downloadOnce(rev, dir), isRetryable);
}

/** fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND, ...). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
