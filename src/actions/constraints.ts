import * as core from '@actions/core';
import { actionsFileCache } from './actions-cache.js';
import { constrain } from '../constraints/index.js';
import { reportConstraints } from './constraints-report.js';
import { readConstraintsSettings } from './constraints-settings.js';
import { runAction, runAsEntry } from './runner.js';

/** The constraints action: the bundle runs it, and so do local-action and the tests. */
export async function run(): Promise<void> {
  await runAction('constraints', main);
}

async function main(): Promise<void> {
  const settings = readConstraintsSettings();
  const result = await core.group('Resolve and apply OpenStack constraints', () =>
    constrain({
      ...settings,
      cache: settings.useCache ? actionsFileCache() : undefined,
      log: core.info,
    }),
  );
  await reportConstraints(result, settings.dryRun ?? false);
}

await runAsEntry(import.meta.url, run);
