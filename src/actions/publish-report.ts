import * as core from '@actions/core';
import { branchTip, githubClient } from '../github/index.js';
import { formatChannel, promote, publish, type PublishResult } from '../store/index.js';
import { prepareRunner, runnerSetupPlan, shouldPrepare } from '../build/index.js';
import { readSnapInfo, SnapcraftCli, storeSnapcraftChannel } from '../snapcraft/index.js';
import { batchError } from '../platform/index.js';
import { PublishOutputs as O } from './constants.js';
import type { BranchGuard, PublishSettings } from './publish-settings.js';
import { escapeHtml, flushSummary } from './runner.js';

/** Installs snapcraft where needed, then uploads and releases (or promotes): publish's one call. */
export async function publishWith(settings: PublishSettings): Promise<PublishResult> {
  if (!settings.dryRun && shouldPrepare(settings.setup)) {
    const base = settings.files[0] ? (await readSnapInfo(settings.files[0])).base : null;
    const channel = settings.snapcraftChannel ?? storeSnapcraftChannel(base);
    await core.group(`Prepare the runner (snapcraft ${channel})`, () =>
      prepareRunner(
        runnerSetupPlan({
          purpose: 'store',
          snapcraftChannel: channel,
          docker: false,
          lxdInstalled: true,
        }),
        core.info,
        core.warning,
      ),
    );
  }
  const cli = new SnapcraftCli({
    command: settings.snapcraft,
    credentials: settings.credentials,
    onOutput: (line) => core.info(line),
  });
  const channel = formatChannel(settings.channel);
  if (settings.promote) {
    const { promote: revisions, expectedName } = settings;
    return core.group(`Promote ${expectedName} to ${channel}`, () =>
      promote(cli, expectedName!, channel, revisions, settings.retry, core.info),
    );
  }
  return core.group(`Publish to ${channel}`, () =>
    publish({
      ...settings,
      cli,
      log: core.info,
      stillCurrent: settings.guard ? branchStillAt(settings.guard) : undefined,
    }),
  );
}

/** Null while the branch is at the commit this run built; else the sentence that says so. */
function branchStillAt(guard: BranchGuard): () => Promise<string | null> {
  const client = githubClient(guard.token, guard.apiUrl, core.info);
  return async () => {
    const tip = await branchTip(client, guard.repository, guard.branch);
    if (tip === guard.sha) return null;
    return tip
      ? `${guard.branch} has moved on to ${tip.slice(0, 12)} since this run built ${guard.sha.slice(0, 12)}: the newer run publishes`
      : `${guard.branch} no longer exists: this run built ${guard.sha.slice(0, 12)} of it`;
  };
}

/** Outputs, the job summary, and the job's failure when publishing failed. */
export async function reportPublish(result: PublishResult, dryRun: boolean): Promise<void> {
  const status = result.error
    ? 'failed'
    : result.superseded
      ? 'superseded'
      : dryRun
        ? 'dry-run'
        : result.released
          ? 'published'
          : 'uploaded';
  core.setOutput(O.snapName, result.name);
  core.setOutput(O.channel, result.channel);
  core.setOutput(
    O.revisions,
    JSON.stringify(
      Object.fromEntries(
        result.snaps.filter((s) => s.revision !== null).map((s) => [s.arch, s.revision]),
      ),
    ),
  );
  core.setOutput(O.released, String(result.released));
  core.setOutput(O.result, JSON.stringify({ status, ...result }));
  const icon: Record<string, string> = {
    uploaded: '✅',
    duplicate: '♻️',
    failed: '❌',
    skipped: '⏭️',
    'would-upload': '📝',
  };
  core.summary
    .addHeading(
      `${dryRun ? 'Dry run: ' : ''}${result.name} → ${result.channel}${result.released ? ' (released)' : ''}`,
      3,
    )
    .addTable([
      ['Architecture', 'Version', 'Revision', 'Upload', 'Released'].map((data) => ({
        data,
        header: true,
      })),
      ...result.snaps.map((s) => [
        s.arch,
        s.version,
        s.revision === null ? '–' : String(s.revision),
        `${icon[s.status] ?? ''} ${s.status}`,
        s.released ? 'yes' : 'no',
      ]),
    ]);
  if (result.superseded)
    core.summary.addRaw(`\n**Not published:** ${escapeHtml(result.superseded)}.\n`, true);
  if (result.error) core.summary.addRaw(`\n**${escapeHtml(result.error)}**\n`, true);
  await flushSummary();
  if (result.superseded) core.warning(`Not published: ${result.superseded}.`);
  if (result.error)
    throw batchError(
      [result.failure ?? { message: result.error, kind: 'external', retryable: false }],
      result.error,
    );
}
