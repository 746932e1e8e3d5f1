import * as core from '@actions/core';
import { ConfigurationError } from '../errors.js';
import { parseTrackMap, releaseTarget } from '../release-ref.js';
import type { RetryPolicy } from '../retry.js';
import { SeriesTable } from '../series.js';
import { expandSnapPaths } from '../snap-file.js';
import { parseChannel, RISKS, type Channel } from '../store-channel.js';
import { PublishInputs as I } from './constants.js';
import { defaultRef, readEventPayload } from './github-event.js';
import { getBooleanInput, getListInput } from './runner.js';

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
}

/**
 * Reads and validates the publish inputs. Refuses, before anything else, to run where secrets must
 * not be: pull requests and forks.
 */
export function readPublishSettings(env: NodeJS.ProcessEnv = process.env): PublishSettings {
  refuseUntrustedEvents(env);
  const dryRun = getBooleanInput(I.dryRun, false);
  const credentials = core.getInput(I.storeCredentials) || env.SNAPCRAFT_STORE_CREDENTIALS || '';
  if (credentials) core.setSecret(credentials);
  if (!credentials && !dryRun) {
    throw new ConfigurationError(
      `No store credentials: pass secrets.SNAPCRAFT_STORE_CREDENTIALS as '${I.storeCredentials}' (or the environment ` +
        `variable); create them with \`snapcraft export-login --snaps NAME --acls package_access,package_push,package_update,package_release -\`.`,
    );
  }
  const channel = channelInput(env);
  const promoteText = core.getInput(I.promoteRevisions);
  const attempts = Number(core.getInput(I.attempts) || '4');
  const delay = Number(core.getInput(I.retryDelay) || '5');
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
    throw new ConfigurationError(`'${I.attempts}' must be a whole number from 1 to 10.`);
  }
  if (!(delay >= 0 && delay <= 600))
    throw new ConfigurationError(`'${I.retryDelay}' must be seconds from 0 to 600.`);
  return {
    files: promoteText
      ? []
      : expandSnapPaths(getListInput(I.snaps), env.GITHUB_WORKSPACE ?? process.cwd()),
    channel,
    release: getBooleanInput(I.release, true),
    expectedName: core.getInput(I.snapName) || undefined,
    credentials,
    snapcraft: core.getInput(I.snapcraft) || 'snapcraft',
    retry: { attempts, baseDelayMs: delay * 1000, maxDelayMs: Math.max(delay * 1000, 60000) },
    dryRun,
    promote: promoteText ? parsePromotion(promoteText) : undefined,
  };
}

function refuseUntrustedEvents(env: NodeJS.ProcessEnv): void {
  const event = env.GITHUB_EVENT_NAME ?? '';
  if (event === 'pull_request' || event === 'pull_request_target') {
    throw new ConfigurationError(
      `publish does not run for ${event} events: pull requests build and test only. Publish from a push to a ` +
        `release branch or a workflow_dispatch.`,
    );
  }
  const payload = readEventPayload(env);
  if (payload) {
    if (payload.repository?.fork) {
      throw new ConfigurationError(
        `publish does not run in a fork (${payload.repository.full_name}): the upstream repository publishes.`,
      );
    }
  }
}

function channelInput(env: NodeJS.ProcessEnv): Channel {
  const explicit = core.getInput(I.channel);
  if (explicit) return parseChannel(explicit);
  const risk = core.getInput(I.risk) || 'edge';
  if (!RISKS.includes(risk as (typeof RISKS)[number])) {
    throw new ConfigurationError(`'${I.risk}' must be one of ${RISKS.join(', ')}, not '${risk}'.`);
  }
  const table = new SeriesTable();
  const trackMap = core.getInput(I.trackMap);
  const { track } = releaseTarget(core.getInput(I.ref) || defaultRef(env), {
    table,
    trackMap: trackMap ? parseTrackMap(trackMap, table) : undefined,
  });
  return parseChannel(`${track}/${risk}`);
}

function parsePromotion(text: string): Record<string, number> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = null;
  }
  const entries =
    data && typeof data === 'object' ? Object.entries(data as Record<string, unknown>) : [];
  if (entries.length === 0 || entries.some(([, v]) => !Number.isInteger(v))) {
    throw new ConfigurationError(
      `'${I.promoteRevisions}' must be JSON of architecture to revision, e.g. {"amd64": 12, "arm64": 13} (publish's 'revisions' output).`,
    );
  }
  return Object.fromEntries(entries) as Record<string, number>;
}
