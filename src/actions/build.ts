import { buildAndReport } from './build-report.js';
import { readBuildSettings } from './build-settings.js';
import { runAction, runAsEntry } from './runner.js';

/** The build action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('build', async () => void (await buildAndReport(readBuildSettings())));
}

await runAsEntry(import.meta.url, run);
