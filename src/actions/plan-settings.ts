import * as core from '@actions/core';
import type { PipelineEvent } from '../github/index.js';
import { PlanInputs as I } from './constants.js';
import { readEventPayload } from './github-event.js';
import { getBooleanInput } from './runner.js';

/** What the plan action decides from: the event (names, payload) and its inputs. */
export function readPlanSettings(env: NodeJS.ProcessEnv = process.env): PipelineEvent {
  const payload = readEventPayload(env) ?? {};
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    refName: env.GITHUB_REF_NAME ?? '',
    baseRef: env.GITHUB_BASE_REF || undefined,
    mergeGroupBaseRef: payload.merge_group?.base_ref,
    fork: payload.repository?.fork === true,
    inputs: {
      branch: core.getInput(I.branch) || undefined,
      publish: getBooleanInput(I.publish, true),
    },
    series: core.getInput(I.series) || undefined,
  };
}
