import * as core from '@actions/core';
import { targetKey, type FleetResult } from '../github/index.js';
import { ExternalError } from '../platform/index.js';
import { DispatchOutputs as O } from './constants.js';
import { escapeHtml, flushSummary } from './runner.js';

/** The outputs and the summary of a fleet rebuild; fails the step when a rebuild failed. */
export async function reportFleet(
  title: string,
  results: readonly FleetResult[],
  why: ReadonlyMap<string, string>,
): Promise<void> {
  // A run still going is not a failure: it is marked pending, and the next run follows it.
  const failed = results.filter(
    (r) => r.error || (r.conclusion !== null && r.conclusion !== 'success'),
  );
  core.setOutput(O.results, JSON.stringify(results));
  core.setOutput(O.failed, [...new Set(failed.map((r) => r.repo))].join(' '));
  const icon = (r: FleetResult): string =>
    r.error ? '❌' : r.conclusion === 'success' ? '✅' : r.conclusion ? '❌' : '▶️';
  core.summary.addHeading(title, 3);
  if (results.length === 0) core.summary.addRaw('Nothing to rebuild.\n', true);
  else
    core.summary.addTable([
      ['Snap repo', 'Branch', 'Why', 'Result', 'Run'].map((data) => ({ data, header: true })),
      ...results.map((r) => [
        r.repo,
        r.branch,
        escapeHtml(why.get(targetKey(r)) ?? 'requested'),
        `${icon(r)} ${escapeHtml(r.error ?? r.conclusion ?? (r.runUrl || r.dispatched ? 'running; the next run follows it' : 'dispatched'))}`,
        r.runUrl ? `<a href="${r.runUrl}">run</a>` : '',
      ]),
    ]);
  await flushSummary();
  if (failed.length)
    throw new ExternalError(
      `${title} failed in ${failed.map((r) => `${r.repo} ${r.branch} (${r.error ?? r.conclusion})`).join(', ')}`,
    );
}
