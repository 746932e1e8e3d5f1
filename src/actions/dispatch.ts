import * as core from '@actions/core';
import { ConfigurationError } from '../errors.js';
import { rebuildFleet } from '../fleet.js';
import { normaliseRefName } from '../release-ref.js';
import { DispatchInputs as I, DispatchOutputs as O } from './constants.js';
import { flushSummary, getBooleanInput, getListInput, isEntryPoint, runAction } from './runner.js';

/** The dispatch action (fleet rebuilds): the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('dispatch', main);
}

async function main(): Promise<void> {
  const token = core.getInput(I.token, { required: true });
  core.setSecret(token);
  const repos = getListInput(I.repos);
  if (repos.length === 0) throw new ConfigurationError(`'${I.repos}' lists no snap repositories.`);
  const branch = normaliseRefName(core.getInput(I.branch, { required: true }));
  const minutes = Number(core.getInput(I.timeoutMinutes) || '180');
  if (!(minutes > 0))
    throw new ConfigurationError(`'${I.timeoutMinutes}' must be a number of minutes.`);
  const results = await core.group(`Rebuild ${branch} in ${repos.length} snap repos`, () =>
    rebuildFleet({
      repos,
      branch,
      workflow: core.getInput(I.workflow) || 'snap.yml',
      publish: getBooleanInput(I.publish, true),
      token,
      apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
      wait: getBooleanInput(I.wait, true),
      timeoutMs: minutes * 60000,
      pollMs: Number(process.env.OSA_POLL_MS ?? 30000),
      log: core.info,
    }),
  );
  const failed = results.filter(
    (r) => r.error || (r.conclusion !== null && r.conclusion !== 'success'),
  );
  core.setOutput(O.results, JSON.stringify(results));
  core.setOutput(O.failed, failed.map((r) => r.repo).join(' '));
  const icon = (r: (typeof results)[number]): string =>
    r.error ? '❌' : r.conclusion === 'success' ? '✅' : r.conclusion ? '❌' : '▶️';
  core.summary
    .addHeading(`Rebuild of ${branch}`, 3)
    .addTable([
      ['Snap repo', 'Result', 'Run'].map((data) => ({ data, header: true })),
      ...results.map((r) => [
        r.repo,
        `${icon(r)} ${r.error ?? r.conclusion ?? 'dispatched'}`,
        r.runUrl ? `<a href="${r.runUrl}">run</a>` : '',
      ]),
    ]);
  await flushSummary();
  if (failed.length)
    core.setFailed(
      `Rebuild of ${branch} failed in ${failed.map((r) => `${r.repo} (${r.error ?? r.conclusion})`).join(', ')}`,
    );
}

if (isEntryPoint(import.meta.url)) await run();
