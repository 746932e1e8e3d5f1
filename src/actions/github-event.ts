import { existsSync, readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors.js';

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
  readonly repository?: { readonly fork?: boolean; readonly full_name?: string };
}

/** The event payload, or null when there is no event file (a run outside Actions). */
export function readEventPayload(env: NodeJS.ProcessEnv): EventPayload | null {
  const path = env.GITHUB_EVENT_PATH;
  if (!path || !existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
}
