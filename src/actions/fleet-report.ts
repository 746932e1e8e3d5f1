import * as core from '@actions/core';
import { statusSummary, type FleetPlan, type StatusRow } from '../fleet/index.js';
import { ExternalError } from '../platform/index.js';
import { FleetOutputs as O } from './constants.js';
import type { FleetSettings } from './fleet-settings.js';
import { escapeHtml, flushSummary } from './runner.js';

/** What the plan builds this run, what waits and why, and what could not be read. */
export async function reportPlan(plan: FleetPlan, settings: FleetSettings): Promise<void> {
  const { decision } = plan;
  core.info(
    `${decision.build.length} to build, ${decision.waiting.length} waiting, ${decision.upToDate.length} up to date`,
  );
  for (const problem of plan.problems) core.warning(`Not planned: ${problem}`);
  core.summary.addHeading('Fleet plan', 3);
  const rows = [
    ...plan.targets.map((t) => [
      t.name,
      `<code>${t.sha.slice(0, 12)}</code>`,
      `<code>${t['constraints-commit'].slice(0, 12)}</code>`,
      'builds in this run',
    ]),
    ...decision.waiting.map((w) => [
      `${w.wanted.snap.name} ${w.wanted.branch}`,
      `<code>${w.wanted.sha.slice(0, 12)}</code>`,
      `<code>${w.wanted.constraints.slice(0, 12)}</code>`,
      escapeHtml(w.why),
    ]),
  ];
  if (rows.length === 0)
    core.summary.addRaw(
      `Every snap branch (${decision.upToDate.length}) is published from its current commit and constraints.\n`,
      true,
    );
  else
    core.summary.addTable([
      ['Snap branch', 'Commit', 'Constraints', 'This run'].map((data) => ({ data, header: true })),
      ...rows.map((r) => r.map((c) => escapeHtml(c).replace(/&lt;(\/?)code&gt;/g, '<$1code>'))),
    ]);
  if (plan.problems.length)
    core.summary.addRaw(
      `\n**Not planned this run** (tried again next run):\n\n${plan.problems.map((p) => `- ${escapeHtml(p)}`).join('\n')}\n`,
      true,
    );
  core.summary.addRaw(`\nState: \`${settings.stateBranch}\` of this repository.\n`, true);
  await flushSummary();
}

/** What this run published and what failed, then the fleet's status. */
export async function reportRecord(
  recorded: readonly { key: string; published: boolean }[],
  rows: readonly StatusRow[],
): Promise<void> {
  const failed = recorded.filter((r) => !r.published).map((r) => r.key);
  core.setOutput(O.failed, failed.join('\n'));
  core.summary.addHeading('Fleet status', 3);
  core.summary.addRaw(statusSummary(rows), true);
  await flushSummary();
  if (failed.length)
    throw new ExternalError(
      `Not published: ${failed.join(', ')}. Each is built again by a later run (after 1, 2, 4 ... hours for the same commits), or at once when its commit or constraints move.`,
    );
}
