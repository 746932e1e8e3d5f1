import {
  ConfigurationError,
  errorMessage,
  isRetryable,
  type RetryPolicy,
  withRetries,
  itemFailure,
  type ItemFailure,
} from '../platform/index.js';
import { readSnapInfo, type SnapcraftCli, type SnapInfo, StoreError } from '../snapcraft/index.js';
import { checkGrade, formatChannel, type Channel } from './channel.js';

export type SnapStatus = 'uploaded' | 'duplicate' | 'failed' | 'skipped' | 'would-upload';

export interface SnapOutcome {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  readonly revision: number | null;
  readonly status: SnapStatus;
  readonly released: boolean;
  readonly error?: string;
}

export interface PublishResult {
  readonly name: string;
  readonly channel: string;
  readonly snaps: SnapOutcome[];
  /** True when every revision is on the channel. */
  readonly released: boolean;
  /** What went wrong, and what state the store is left in. */
  readonly error?: string;
  /** Its kind: expired credentials or a missing permission are the user's to fix. */
  readonly failure?: ItemFailure;
  /** Why nothing (more) was published: a newer commit is on the branch, and its run publishes. */
  readonly superseded?: string;
}

export interface PublishOptions {
  readonly files: readonly string[];
  readonly channel: Channel;
  /** Release after uploading (else upload only). */
  readonly release: boolean;
  /** The snap name the workflow expects; a build of another snap is refused. */
  readonly expectedName?: string;
  readonly cli: SnapcraftCli;
  readonly retry: RetryPolicy;
  readonly dryRun?: boolean;
  readonly log?: (message: string) => void;
  /**
   * Asked before the first upload and again before releasing: null while this build is still the
   * one to publish, else why not (the branch moved on). An older run never overwrites a newer one.
   */
  readonly stillCurrent?: () => Promise<string | null>;
}

/** Checks one build's snaps against each other and the channel, before anything is uploaded. */
export async function inspectSnaps(
  files: readonly string[],
  channel: Channel,
  expectedName?: string,
): Promise<SnapInfo[]> {
  const infos = await Promise.all(files.map((file) => readSnapInfo(file)));
  const names = [...new Set(infos.map((i) => i.name))];
  if (names.length > 1) {
    throw new ConfigurationError(
      `The snaps are of different snaps (${names.join(', ')}); publish one snap per step.`,
    );
  }
  if (expectedName && names[0] !== expectedName) {
    throw new ConfigurationError(
      `The snaps are '${names[0]}', but 'snap-name' says '${expectedName}'; check the build's artifacts.`,
    );
  }
  const seen = new Map<string, string>();
  for (const info of infos) {
    const other = seen.get(info.arch);
    if (other)
      throw new ConfigurationError(
        `${other} and ${info.file} are both ${info.arch}; give one snap per architecture.`,
      );
    seen.set(info.arch, info.file);
    checkGrade(info.grade, channel, info.file);
  }
  return infos;
}

/**
 * Uploads every architecture first, without releasing; only when all uploads succeeded does it
 * release the new revisions to the channel, so the channel never mixes old and new builds.
 */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const log = options.log ?? (() => {});
  const channel = formatChannel(options.channel);
  const infos = await inspectSnaps(options.files, options.channel, options.expectedName);
  const name = infos[0]!.name;
  const outcome = (
    info: SnapInfo,
    status: SnapStatus,
    revision: number | null,
    error?: string,
  ): SnapOutcome => ({
    file: info.file,
    name: info.name,
    version: info.version,
    arch: info.arch,
    revision,
    status,
    released: false,
    ...(error ? { error } : {}),
  });
  if (options.dryRun) {
    for (const info of infos)
      log(
        `would upload ${info.file} (${info.name} ${info.version} ${info.arch}) and release it to ${channel}`,
      );
    return {
      name,
      channel,
      snaps: infos.map((i) => outcome(i, 'would-upload', null)),
      released: false,
    };
  }

  const moved = await options.stillCurrent?.();
  if (moved) {
    log(`${moved}; nothing uploaded`);
    return {
      name,
      channel,
      snaps: infos.map((i) => outcome(i, 'skipped', null)),
      released: false,
      superseded: moved,
    };
  }
  const snaps: SnapOutcome[] = [];
  for (const [index, info] of infos.entries()) {
    try {
      const revision = await withRetries(
        options.retry,
        () => options.cli.upload(info.file),
        isRetryable,
        (error, attempt, delay) =>
          log(
            `upload ${info.arch} attempt ${attempt} failed (${errorMessage(error)}); retrying in ${Math.round(delay / 1000)} s`,
          ),
      );
      log(`${info.arch}: revision ${revision} uploaded`);
      snaps.push(outcome(info, 'uploaded', revision));
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'duplicate') {
        const existing = await findRevision(options.cli, info);
        if (existing !== null) {
          log(`${info.arch}: this exact file is already revision ${existing}`);
          snaps.push(outcome(info, 'duplicate', existing));
          continue;
        }
      }
      const revision = error instanceof StoreError ? error.revision : null;
      snaps.push(outcome(info, 'failed', revision, errorMessage(error)));
      snaps.push(...infos.slice(index + 1).map((i) => outcome(i, 'skipped', null)));
      const done = snaps.filter((s) => s.revision !== null && s.status !== 'failed');
      return {
        name,
        channel,
        snaps,
        released: false,
        failure: storeFailure(error),
        error:
          `Upload of ${info.file} failed: ${errorMessage(error)} Nothing was released to ${channel}` +
          (done.length
            ? `; uploaded and left unreleased: ${done.map((s) => `${s.arch} r${s.revision}`).join(', ')}.`
            : '.'),
      };
    }
  }
  if (!options.release) return { name, channel, snaps, released: false };
  const movedSince = await options.stillCurrent?.();
  if (movedSince) {
    log(`${movedSince}; uploaded and not released`);
    return { name, channel, snaps, released: false, superseded: movedSince };
  }
  return releaseAll(options.cli, name, channel, snaps, options.retry, log);
}

/** Releases revisions (one call each, all channels at once); says exactly where it stopped. */
export async function releaseAll(
  cli: SnapcraftCli,
  name: string,
  channel: string,
  snaps: SnapOutcome[],
  retry: RetryPolicy,
  log: (message: string) => void = () => {},
): Promise<PublishResult> {
  const result = snaps.map((s) => ({ ...s }));
  for (const snap of result) {
    try {
      await withRetries(retry, () => cli.release(name, snap.revision!, [channel]), isRetryable);
      (snap as { released: boolean }).released = true;
      log(`${snap.arch}: revision ${snap.revision} released to ${channel}`);
    } catch (error) {
      const released = result.filter((s) => s.released);
      return {
        name,
        channel,
        snaps: result,
        released: false,
        failure: storeFailure(error),
        error:
          `Releasing ${snap.arch} r${snap.revision} to ${channel} failed: ${errorMessage(error)}` +
          (released.length
            ? ` ${channel} now has ${released.map((s) => `${s.arch} r${s.revision}`).join(', ')} from this build and older revisions of the rest; rerun to release them.`
            : ' Nothing was released.'),
      };
    }
  }
  return { name, channel, snaps: result, released: true };
}

// The same file uploaded twice is the same version and architecture: its newest such revision.
async function findRevision(cli: SnapcraftCli, info: SnapInfo): Promise<number | null> {
  const rows = await cli.revisions(info.name).catch(() => []);
  return (
    rows.find((r) => r.version === info.version && r.arches.includes(info.arch))?.revision ?? null
  );
}

/** Releases revisions an earlier publish uploaded (arch -> revision) to another channel. */
export async function promote(
  cli: SnapcraftCli,
  name: string,
  channel: string,
  revisions: Readonly<Record<string, number>>,
  retry: RetryPolicy,
  log: (message: string) => void = () => {},
): Promise<PublishResult> {
  const snaps = Object.entries(revisions).map(([arch, revision]) => ({
    file: '',
    name,
    version: '',
    arch,
    revision,
    status: 'uploaded' as const,
    released: false,
  }));
  return releaseAll(cli, name, channel, snaps, retry, log);
}

/** A store failure's kind: credentials and permissions are the user's to renew or grant. */
function storeFailure(error: unknown): ItemFailure {
  const users = error instanceof StoreError && ['credentials', 'permission'].includes(error.kind);
  return itemFailure(error, users ? 'configuration' : undefined);
}
