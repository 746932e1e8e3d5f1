import { existsSync, readFileSync } from 'node:fs';
import { ConfigurationError } from '../platform/index.js';
import { mayPublishOn, PUBLISHING_EVENTS } from '../release/index.js';

/**
 * What the event that started the run says, read in one place: the ref a step builds by default,
 * and the event payload (GITHUB_EVENT_PATH) the trust decisions read.
 */

/** A pull request is checked against its base branch; anything else builds the ref it ran on. */
export function defaultRef(env: NodeJS.ProcessEnv): string {
  const ref = env.GITHUB_BASE_REF || env.GITHUB_REF_NAME || env.GITHUB_REF;
  if (!ref) {
    throw new ConfigurationError(
      `No 'ref' input and no GITHUB_REF: set 'ref' to the branch being built, e.g. stable/2025.1.`,
    );
  }
  return ref;
}

/** The parts of an event payload the actions read. */
export interface EventPayload {
  readonly repository?: {
    readonly fork?: boolean;
    readonly full_name?: string;
    readonly private?: boolean;
  };
  /** merge_group events: the branch the queue merges into (refs/heads/main). */
  readonly merge_group?: { readonly base_ref?: string; readonly head_sha?: string };
}

/** The event payload, or null when there is no event file (a run outside Actions). */
export function readEventPayload(env: NodeJS.ProcessEnv): EventPayload | null {
  const path = env.GITHUB_EVENT_PATH;
  if (!path || !existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
  } catch {
    return null;
  }
}

/**
 * Refuses, before anything else, to publish (or push, or dispatch) where a fork's code may run or
 * secrets must not be: only events in PUBLISHING_EVENTS (release/events.ts), outside forks, with
 * a payload that says so. `what` names the action for the message.
 */
export function assertMayPublish(
  env: NodeJS.ProcessEnv,
  what: string,
  instead = 'Publish from a push to a release branch or a workflow_dispatch, or set dry-run: true.',
): void {
  const event = env.GITHUB_EVENT_NAME ?? '';
  if (!mayPublishOn(event)) {
    throw new ConfigurationError(
      `${what} does not run for ${event ? `'${event}'` : 'unnamed'} events: only ${PUBLISHING_EVENTS.join(', ')} ` +
        `are trusted to (pull requests, merge queues, workflow_run and comment or review events can carry a fork's code). ` +
        instead,
    );
  }
  const payload = readEventPayload(env);
  if (!payload) {
    throw new ConfigurationError(
      `${what} cannot read the event payload (GITHUB_EVENT_PATH) to check that this is not a fork's run; ` +
        `it runs only inside GitHub Actions (or with dry-run: true).`,
    );
  }
  if (payload.repository?.fork) {
    throw new ConfigurationError(
      `${what} does not run in a fork (${payload.repository.full_name}): the upstream repository publishes.`,
    );
  }
}

/**
 * Whether this run's caches and build images may be read by release builds: a run for an event
 * trusted to publish, or a run outside Actions (a user's own machine). A pull request's is not.
 */
export function isTrustedRun(env: NodeJS.ProcessEnv): boolean {
  return !env.GITHUB_EVENT_NAME || mayPublishOn(env.GITHUB_EVENT_NAME);
}

/** This run's page, for build info and summaries; empty outside Actions. */
export function runUrl(env: NodeJS.ProcessEnv): string {
  if (!env.GITHUB_RUN_ID || !env.GITHUB_REPOSITORY) return '';
  return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}
