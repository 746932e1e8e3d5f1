import * as core from '@actions/core';
import { readEventPayload } from './github-event.js';
import { planPipeline } from '../pipeline-plan.js';
import { PlanInputs as I, PlanOutputs as O } from './constants.js';
import { flushSummary, getBooleanInput, isEntryPoint, runAction } from './runner.js';

/** The plan action: the reusable workflow's decisions, from the event. */
export async function run(): Promise<void> {
  await runAction('plan', main);
}

async function main(): Promise<void> {
  const env = process.env;
  const payload = readEventPayload(env) ?? {};
  const plan = planPipeline({
    eventName: env.GITHUB_EVENT_NAME ?? '',
    refName: env.GITHUB_REF_NAME ?? '',
    baseRef: env.GITHUB_BASE_REF || undefined,
    mergeGroupBaseRef: payload.merge_group?.base_ref,
    fork: payload.repository?.fork === true,
    inputs: {
      branch: core.getInput(I.branch) || undefined,
      publish: getBooleanInput(I.publish, true),
    },
  });
  core.setOutput(O.ref, plan.ref);
  core.setOutput(O.checkout, plan.checkout);
  core.setOutput(O.publish, String(plan.publish));
  core.setOutput(O.constraints, String(plan.constraints));
  core.setOutput(O.reason, plan.reason);
  const constraints = plan.constraints
    ? 'with its release constraints'
    : 'without release constraints';
  core.info(
    `${plan.ref}: ${plan.publish ? 'publish' : 'no publish'} (${plan.reason}); ${constraints}`,
  );
  core.summary.addRaw(
    `**Pipeline:** ${plan.ref}, ${constraints}, ${plan.publish ? 'publishing' : 'not publishing'}: ${plan.reason}\n`,
    true,
  );
  await flushSummary();
}

if (isEntryPoint(import.meta.url)) await run();
