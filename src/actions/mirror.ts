import * as core from '@actions/core';
import { actionsMirrorStore } from './actions-cache.js';
import { describe, reportMirror } from './mirror-report.js';
import { DirectoryStore, mirrorAll } from '../mirror/index.js';
import { dispatchForChanges, type DispatchResult } from '../github/index.js';
import { readMirrorSettings } from './mirror-settings.js';
import { infoLines, runAction, runAsEntry } from './runner.js';

/** The mirror action: the bundle runs it, and so do local-action and the tests. */
export async function run(): Promise<void> {
  await runAction('mirror', main);
}

async function main(): Promise<void> {
  const settings = readMirrorSettings();
  const store = settings.cacheDir
    ? new DirectoryStore(settings.cacheDir)
    : settings.useActionsCache
      ? actionsMirrorStore()
      : undefined;
  const results = await core.group(`Mirror ${settings.pairs.length} repositories`, () =>
    // What a server says reaches these lines: each behind the repository's name.
    mirrorAll({ ...settings, store, log: (slug, message) => infoLines(`${slug}: `, message) }),
  );
  for (const result of results) infoLines(`${result.slug}: `, describe(result));
  let dispatched: DispatchResult[] = [];
  if (settings.dispatch && !settings.dryRun) {
    dispatched = await core.group('Dispatch builds of changed release branches', () =>
      dispatchForChanges(results, settings.pairs, {
        ...settings.dispatch!,
        apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
        workDir: settings.workDir,
        log: (message) => infoLines('dispatch: ', message),
      }),
    );
  }
  await reportMirror(results, dispatched);
}

await runAsEntry(import.meta.url, run);
