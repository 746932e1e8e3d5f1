import * as core from '@actions/core';
import { parseRepository, type PipelineEvent } from '../github/index.js';
import { ConfigurationError } from '../platform/index.js';
import { PlanInputs as I } from './constants.js';
import { readEventPayload } from './github-event.js';
import { getBooleanInput } from './runner.js';

export interface PlanSettings {
  readonly event: PipelineEvent;
  /** openstack/requirements, to resolve the constraints commit once; empty leaves it to each leg. */
  readonly requirementsRepo: string;
  /** A constraints commit the caller resolved already (a build repository's plan). */
  readonly constraintsCommit: string;
}

/** What the plan action decides from: the event (names, payload) and its inputs. */
export function readPlanSettings(env: NodeJS.ProcessEnv = process.env): PlanSettings {
  const payload = readEventPayload(env) ?? {};
  const branch = core.getInput(I.branch) || undefined;
  const repository = core.getInput(I.repository).trim();
  let build: PipelineEvent['build'];
  if (repository && repository.toLowerCase() !== (env.GITHUB_REPOSITORY ?? '').toLowerCase()) {
    const { owner, repo } = parseRepository(repository, I.repository);
    if (!branch)
      throw new ConfigurationError(
        `'${I.repository}' (${owner}/${repo}) names another repository to build: give the branch to build in '${I.branch}' too.`,
      );
    build = { repository: `${owner}/${repo}`, branch };
  }
  const constraintsCommit = core.getInput(I.constraintsCommit).trim();
  if (constraintsCommit && !/^[0-9a-f]{40}$/.test(constraintsCommit))
    throw new ConfigurationError(
      `'${I.constraintsCommit}' must be a full commit id of openstack/requirements (40 hex digits), not '${constraintsCommit}'.`,
    );
  return {
    event: {
      eventName: env.GITHUB_EVENT_NAME ?? '',
      refName: env.GITHUB_REF_NAME ?? '',
      baseRef: env.GITHUB_BASE_REF || undefined,
      mergeGroupBaseRef: payload.merge_group?.base_ref,
      fork: payload.repository?.fork === true,
      inputs: { branch, publish: getBooleanInput(I.publish, true) },
      series: core.getInput(I.series) || undefined,
      ...(build ? { build } : {}),
    },
    requirementsRepo: core.getInput(I.requirementsRepo).trim(),
    constraintsCommit,
  };
}
