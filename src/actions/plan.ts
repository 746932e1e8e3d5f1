import * as core from '@actions/core';
import { planPipeline } from '../github/index.js';
import { PlanOutputs as O } from './constants.js';
import { readPlanSettings } from './plan-settings.js';
import { flushSummary, runAction, runAsEntry } from './runner.js';

/** The plan action: the reusable workflow's decisions, from the event. */
export async function run(): Promise<void> {
  await runAction('plan', main);
}

async function main(): Promise<void> {
  const plan = planPipeline(readPlanSettings());
  core.setOutput(O.ref, plan.ref);
  core.setOutput(O.checkout, plan.checkout);
  core.setOutput(O.publish, String(plan.publish));
  core.setOutput(O.constraints, String(plan.constraints));
  core.setOutput(O.series, plan.series);
  core.setOutput(O.reason, plan.reason);
  const constraints = !plan.constraints
    ? 'without release constraints'
    : plan.series
      ? `with ${plan.series}'s constraints (the series input)`
      : 'with its release constraints';
  core.info(
    `${plan.ref}: ${plan.publish ? 'publish' : 'no publish'} (${plan.reason}); ${constraints}`,
  );
  core.summary.addRaw(
    `**Pipeline:** ${plan.ref}, ${constraints}, ${plan.publish ? 'publishing' : 'not publishing'}: ${plan.reason}\n`,
    true,
  );
  await flushSummary();
}

await runAsEntry(import.meta.url, run);
