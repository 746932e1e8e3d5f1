import * as core from '@actions/core';
import { resolveConstraintsCommit } from '../constraints/index.js';
import { planPipeline } from '../github/index.js';
import { releaseTarget, SeriesTable } from '../release/index.js';
import { PlanOutputs as O } from './constants.js';
import { readPlanSettings } from './plan-settings.js';
import { flushSummary, runAction, runAsEntry } from './runner.js';

/** The plan action: the reusable workflow's decisions, from the event. */
export async function run(): Promise<void> {
  await runAction('plan', main);
}

async function main(): Promise<void> {
  const settings = readPlanSettings();
  const table = new SeriesTable();
  const plan = planPipeline(settings.event, table);
  // The constraints commit, once for every leg: a leg that started later would read a newer tip.
  let commit = '';
  if (plan.constraints && (settings.constraintsCommit || settings.requirementsRepo)) {
    if (settings.constraintsCommit) commit = settings.constraintsCommit;
    else {
      const { release } = releaseTarget(plan.ref, { series: plan.series || undefined, table });
      const resolved = await resolveConstraintsCommit(settings.requirementsRepo, release);
      commit = resolved.commit;
      core.info(
        `constraints: openstack/requirements ${resolved.ref.type} ${resolved.ref.name} at ${commit.slice(0, 12)} (${resolved.ref.rule}), for every leg`,
      );
    }
  }
  core.setOutput(O.ref, plan.ref);
  core.setOutput(O.checkout, plan.checkout);
  core.setOutput(O.publish, String(plan.publish));
  core.setOutput(O.constraints, String(plan.constraints));
  core.setOutput(O.series, plan.series);
  core.setOutput(O.reason, plan.reason);
  core.setOutput(O.constraintsCommit, commit);
  const constraints = !plan.constraints
    ? 'without release constraints'
    : (plan.series
        ? `with ${plan.series}'s constraints (the series input)`
        : 'with its release constraints') +
      (commit ? ` at openstack/requirements ${commit.slice(0, 12)}` : '');
  core.info(
    `${plan.ref}: ${plan.publish ? 'publish' : 'no publish'} (${plan.reason}); ${constraints}`,
  );
  core.summary.addRaw(
    `**Pipeline:** ${settings.event.build ? `${settings.event.build.repository} ` : ''}${plan.ref}, ${constraints}, ${plan.publish ? 'publishing' : 'not publishing'}: ${plan.reason}\n`,
    true,
  );
  await flushSummary();
}

await runAsEntry(import.meta.url, run);
