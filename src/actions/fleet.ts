import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  planFleet,
  recordFleet,
  statusPage,
  statusRows,
  type FleetContext,
} from '../fleet/index.js';
import { githubClient, putBranchFile } from '../github/index.js';
import { reportPlan, reportRecord } from './fleet-report.js';
import { readFleetSettings } from './fleet-settings.js';
import { assertMayPublish } from './github-event.js';
import { FleetOutputs as O } from './constants.js';
import { runAction, runAsEntry } from './runner.js';

/** The fleet action: the build repository's plan (what to build this run) and record (what it did). */
export async function run(): Promise<void> {
  await runAction('fleet', main);
}

async function main(): Promise<void> {
  // Its builds publish, and it writes the state: only where publishing is trusted.
  assertMayPublish(
    process.env,
    'The fleet action',
    'Run the build repository on schedule, workflow_dispatch or a push to its default branch.',
  );
  const settings = readFleetSettings();
  if (settings.step === 'sources') {
    // The mirror's pairs: each snap's source to its repository on this GitHub.
    const pairs = settings.config.snaps
      .filter((snap) => snap.source)
      .map(
        (s) => `${s.source} -> ${settings.serverUrl}/${s.repository.owner}/${s.repository.repo}`,
      );
    core.info(pairs.length ? pairs.join('\n') : 'fleet.yml names no source to mirror');
    core.setOutput(O.repos, pairs.join('\n'));
    return;
  }
  const context: FleetContext = {
    client: githubClient(settings.token, settings.apiUrl, core.info),
    repository: settings.repository,
    self: { runId: settings.runId, runUrl: settings.runUrl },
    serverUrl: settings.serverUrl,
    stateBranch: settings.stateBranch,
    log: core.info,
  };
  if (settings.step === 'plan') {
    const plan = await core.group('Plan: what differs from what was published', () =>
      planFleet(settings.config, context),
    );
    core.setOutput(O.targets, JSON.stringify(plan.targets));
    core.setOutput(O.hasTargets, String(plan.targets.length > 0));
    await reportPlan(plan, settings);
    return;
  }
  const { state, recorded } = await core.group('Record: what this run published', () =>
    recordFleet(settings.config, context, settings.publishedDir),
  );
  const options = {
    serverUrl: settings.serverUrl,
    at: new Date().toISOString(),
    runUrl: settings.runUrl,
  };
  const rows = statusRows(settings.config, state, options);
  const page = statusPage(rows, options);
  mkdirSync(settings.statusDir, { recursive: true });
  writeFileSync(join(settings.statusDir, 'index.html'), page);
  // Beside the state, so GitHub Pages can serve the state branch as the fleet's status page;
  // written when the fleet's status moved (not for the page's own time), so the branch does not
  // gain a commit every run.
  const put = (path: string, text: string) =>
    putBranchFile(
      context.client,
      settings.repository,
      settings.stateBranch,
      path,
      text,
      `Status page: run ${settings.runId}`,
    );
  if (await put('status.json', `${JSON.stringify(rows, null, 2)}\n`)) await put('index.html', page);
  writeFileSync(join(settings.statusDir, 'status.json'), `${JSON.stringify(rows, null, 2)}\n`);
  core.setOutput(O.statusDir, settings.statusDir);
  await reportRecord(recorded, rows);
}

await runAsEntry(import.meta.url, run);
