import * as core from '@actions/core';
import { expandSnapPaths, KNOWN_ARCHES } from '../snapcraft/index.js';
import { ConfigurationError, type RetryPolicy } from '../platform/index.js';
import { parseRepository } from '../github/index.js';
import { parseTrackMap, releaseBranch, releaseTarget, SeriesTable } from '../release/index.js';
import { type Channel, parseChannel, RISKS } from '../store/index.js';
import { PublishInputs as I } from './constants.js';
import { assertMayPublish, defaultRef } from './github-event.js';
import { confinedPath, getBooleanInput, getListInput } from './runner.js';

/** The branch must still be at the commit this run built, or a newer run publishes instead. */
export interface BranchGuard {
  readonly repository: { owner: string; repo: string };
  readonly branch: string;
  readonly sha: string;
  readonly token: string;
  readonly apiUrl: string;
}

export interface PublishSettings {
  readonly files: string[];
  readonly channel: Channel;
  readonly release: boolean;
  readonly expectedName?: string;
  readonly credentials: string;
  readonly snapcraft: string;
  readonly retry: RetryPolicy;
  readonly dryRun: boolean;
  /** Promotion mode: release these revisions (arch -> revision) to the channel, upload nothing. */
  readonly promote?: Record<string, number>;
  /** `auto` (hosted runners), `true` or `false`: install snapcraft first. */
  readonly setup: string;
  readonly snapcraftChannel?: string;
  readonly guard?: BranchGuard;
}

// The store's rule for snap names: lower-case letters, digits and single hyphens, up to 40, with
// at least one letter (snapd's ValidateName).
const SNAP_NAME = /^(?=.{1,40}$)(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*$/;

/**
 * Reads and validates the publish inputs. Refuses, before anything else, to run where secrets must
 * not be (a dry run touches no store and may run anywhere).
 */
export function readPublishSettings(
  env: NodeJS.ProcessEnv = process.env,
  /** The one-step action publishes what it just built. */
  built?: readonly string[],
): PublishSettings {
  const dryRun = getBooleanInput(I.dryRun, false);
  if (!dryRun) assertMayPublish(env, 'publish');
  const credentials = core.getInput(I.storeCredentials) || env.SNAPCRAFT_STORE_CREDENTIALS || '';
  if (credentials) core.setSecret(credentials);
  if (!credentials && !dryRun) {
    throw new ConfigurationError(
      `No store credentials: pass secrets.SNAPCRAFT_STORE_CREDENTIALS as '${I.storeCredentials}' (or the environment ` +
        `variable); create them with \`snapcraft export-login --snaps NAME --acls package_access,package_push,package_update,package_release -\`.`,
    );
  }
  const table = new SeriesTable();
  const ref = core.getInput(I.ref) || defaultRef(env);
  const channel = channelInput(ref, table);
  const promoteText = core.getInput(I.promoteRevisions);
  const attempts = Number(core.getInput(I.attempts) || '4');
  const delay = Number(core.getInput(I.retryDelay) || '5');
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
    throw new ConfigurationError(`'${I.attempts}' must be a whole number from 1 to 10.`);
  }
  if (!(delay >= 0 && delay <= 600))
    throw new ConfigurationError(`'${I.retryDelay}' must be seconds from 0 to 600.`);
  const expectedName = core.getInput(I.snapName) || undefined;
  if (expectedName && !SNAP_NAME.test(expectedName)) {
    throw new ConfigurationError(
      `'${I.snapName}' ('${expectedName}') is not a snap name: lower-case letters, digits and single hyphens, up to 40.`,
    );
  }
  if (promoteText && !expectedName)
    throw new ConfigurationError(`Promotion ('${I.promoteRevisions}') needs '${I.snapName}'.`);
  const setup = core.getInput(I.setup) || 'auto';
  if (!['auto', 'true', 'false'].includes(setup))
    throw new ConfigurationError(`'${I.setup}' must be auto, true or false, not '${setup}'.`);
  return {
    files: promoteText
      ? []
      : (built?.slice() ??
        expandSnapPaths(getListInput(I.snaps), env.GITHUB_WORKSPACE ?? process.cwd()).map((f) =>
          confinedPath(f, I.snaps),
        )),
    channel,
    release: getBooleanInput(I.release, true),
    expectedName,
    credentials,
    snapcraft: core.getInput(I.snapcraft) || 'snapcraft',
    retry: { attempts, baseDelayMs: delay * 1000, maxDelayMs: Math.max(delay * 1000, 60000) },
    dryRun,
    promote: promoteText ? parsePromotion(promoteText) : undefined,
    setup,
    snapcraftChannel: core.getInput(I.snapcraftChannel) || undefined,
    guard: guardInput(ref, table, env),
  };
}

function channelInput(ref: string, table: SeriesTable): Channel {
  const explicit = core.getInput(I.channel);
  if (explicit) return parseChannel(explicit);
  const risk = core.getInput(I.risk) || 'edge';
  if (!RISKS.includes(risk as (typeof RISKS)[number])) {
    throw new ConfigurationError(`'${I.risk}' must be one of ${RISKS.join(', ')}, not '${risk}'.`);
  }
  const trackMap = core.getInput(I.trackMap);
  const { track } = releaseTarget(ref, {
    table,
    trackMap: trackMap ? parseTrackMap(trackMap, table) : undefined,
  });
  return parseChannel(`${track}/${risk}`);
}

function guardInput(
  ref: string,
  table: SeriesTable,
  env: NodeJS.ProcessEnv,
): BranchGuard | undefined {
  const sha = core.getInput(I.sha);
  if (!sha) return undefined;
  if (!/^[0-9a-f]{40}$/.test(sha))
    throw new ConfigurationError(`'${I.sha}' must be a full commit SHA (40 hex digits).`);
  const release = releaseBranch(ref, table);
  if (!release) {
    throw new ConfigurationError(
      `'${I.sha}' guards a release branch, and '${ref}' is not one (master, main, stable/*, unmaintained/*).`,
    );
  }
  const token = core.getInput(I.githubToken) || env.GITHUB_TOKEN || '';
  if (!token)
    throw new ConfigurationError(`'${I.sha}' needs '${I.githubToken}' to read the branch.`);
  core.setSecret(token);
  return {
    repository: core.getInput(I.repository)
      ? parseRepository(core.getInput(I.repository), I.repository)
      : parseRepository(env.GITHUB_REPOSITORY ?? '', 'GITHUB_REPOSITORY'),
    branch: release.ref,
    sha,
    token,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
  };
}

function parsePromotion(text: string): Record<string, number> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = null;
  }
  const entries =
    data && typeof data === 'object' && !Array.isArray(data)
      ? Object.entries(data as Record<string, unknown>)
      : [];
  const valid = entries.every(
    ([arch, revision]) =>
      (KNOWN_ARCHES as readonly string[]).includes(arch) &&
      Number.isSafeInteger(revision) &&
      (revision as number) > 0,
  );
  if (entries.length === 0 || !valid) {
    throw new ConfigurationError(
      `'${I.promoteRevisions}' must be JSON of architecture to revision (a positive whole number), e.g. {"amd64": 12, "arm64": 13} (publish's 'revisions' output).`,
    );
  }
  return Object.fromEntries(entries) as Record<string, number>;
}
