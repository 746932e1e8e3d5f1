import * as core from '@actions/core';
import {
  githubClient,
  rebuildFleet,
  rebuildForConstraints,
  FLEET_STATE,
  StateFile,
  type FleetOptions,
} from '../github/index.js';
import { reportFleet } from './dispatch-report.js';
import { readDispatchSettings } from './dispatch-settings.js';
import { assertMayPublish } from './github-event.js';
import { runAction, runAsEntry } from './runner.js';

/** The dispatch action (fleet rebuilds): the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('dispatch', main);
}

async function main(): Promise<void> {
  assertMayPublish(process.env, 'dispatch');
  const settings = readDispatchSettings();
  const fleet: FleetOptions = {
    client: githubClient(settings.token, settings.apiUrl, core.info),
    workflow: settings.workflow,
    publish: settings.publish,
    timeoutMs: settings.timeoutMs,
    pollMs: settings.pollMs,
    log: core.info,
  };
  const { branch, constraints } = settings;
  if (branch) {
    const results = await core.group(
      `Rebuild ${branch} in ${settings.repos.length} snap repos`,
      () =>
        rebuildFleet(
          settings.repos.map((repository) => ({ repository, branch })),
          { ...fleet, wait: settings.wait },
        ),
    );
    await reportFleet(`Rebuild of ${branch}`, results, new Map());
  } else if (constraints) {
    const { results, why } = await core.group('Rebuilds for changed constraints', () =>
      rebuildForConstraints({
        fleet,
        repos: settings.repos,
        requirementsUrl: constraints.requirementsUrl,
        branchPatterns: constraints.branchPatterns,
        state: new StateFile(
          githubClient(constraints.stateToken, settings.apiUrl, core.info),
          constraints.stateRepository,
          constraints.stateBranch,
          'fleet-state.json',
          FLEET_STATE,
        ),
        wait: settings.wait,
      }),
    );
    await reportFleet('Rebuilds for changed constraints', results, why);
  }
}

await runAsEntry(import.meta.url, run);
