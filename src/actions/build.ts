import * as core from '@actions/core';
import { cleanUpRemoteBuilds } from '../build/index.js';
import { buildAndReport } from './build-report.js';
import { BuildState as S } from './constants.js';
import { readBuildSettings } from './build-settings.js';
import { runAction, runAsEntry, runnerTemp } from './runner.js';

/** The build action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  if (core.getState(S.isPost) === 'true') {
    // The post step: what a remote build killed outright left (its snapcraft, tree, credentials).
    // It never fails the job.
    try {
      for (const line of cleanUpRemoteBuilds(runnerTemp())) core.info(line);
    } catch (error) {
      core.warning(`Cleaning up after the remote build: ${String(error)}`);
    }
    return;
  }
  core.saveState(S.isPost, 'true');
  await runAction('build', async () => void (await buildAndReport(readBuildSettings())));
}

await runAsEntry(import.meta.url, run);
