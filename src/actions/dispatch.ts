import * as core from '@actions/core';
import { ConfigurationError } from '../errors.js';
import {
  awaitRuns,
  dispatchAll,
  parseFleetRepo,
  rebuildFleet,
  resultOf,
  type FleetOptions,
  type FleetResult,
} from '../fleet.js';
import { planRebuilds, recordRuns, StateFile, type StaleTarget } from '../fleet-state.js';
import { Git } from '../git.js';
import { githubClient, parseRepository, type GitHubClient } from '../github-api.js';
import { globToRegExp } from '../glob.js';
import { normaliseRefName } from '../release-ref.js';
import { listRemoteRefs, normaliseRepoLocation, redactUrl } from '../requirements-repo.js';
import { DispatchInputs as I, DispatchOutputs as O } from './constants.js';
import { assertMayPublish } from './github-event.js';
import {
  escapeHtml,
  flushSummary,
  getBooleanInput,
  getListInput,
  isEntryPoint,
  runAction,
} from './runner.js';

/** The dispatch action (fleet rebuilds): the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('dispatch', main);
}

async function main(): Promise<void> {
  const env = process.env;
  assertMayPublish(env, 'dispatch');
  const token = core.getInput(I.token, { required: true });
  core.setSecret(token);
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repos = getListInput(I.repos).map((r) => parseFleetRepo(r, serverUrl));
  if (repos.length === 0) throw new ConfigurationError(`'${I.repos}' lists no snap repositories.`);
  const minutes = Number(core.getInput(I.timeoutMinutes) || '180');
  if (!(minutes > 0))
    throw new ConfigurationError(`'${I.timeoutMinutes}' must be a number of minutes.`);
  const wait = getBooleanInput(I.wait, true);
  const branchInput = core.getInput(I.branch);
  const requirementsInput = core.getInput(I.requirementsRepo);
  if (!branchInput && !requirementsInput) {
    throw new ConfigurationError(
      `Give '${I.branch}' (rebuild that release branch everywhere) or '${I.requirementsRepo}' (rebuild what its constraints changed for).`,
    );
  }
  const apiUrl = env.GITHUB_API_URL ?? 'https://api.github.com';
  const client = githubClient(token, apiUrl, core.info);
  const fleet: FleetOptions = {
    client,
    workflow: core.getInput(I.workflow) || 'snap.yml',
    publish: getBooleanInput(I.publish, true),
    timeoutMs: minutes * 60000,
    pollMs: Number(env.OSA_POLL_MS ?? 30000),
    log: core.info,
  };

  if (branchInput) {
    const branch = normaliseRefName(branchInput);
    const results = await core.group(`Rebuild ${branch} in ${repos.length} snap repos`, () =>
      rebuildFleet(
        repos.map((repository) => ({ repository, branch })),
        { ...fleet, wait },
      ),
    );
    await report(`Rebuild of ${branch}`, results, new Map());
    return;
  }

  // Rebuilds decided by state: what changed in openstack/requirements since each snap's last
  // successful rebuild, however many runs ago that was; rebuilds an earlier run started are
  // followed, not started again.
  const stateToken = core.getInput(I.stateToken) || env.GITHUB_TOKEN || token;
  core.setSecret(stateToken);
  const stateBranch = normaliseRefName(core.getInput(I.stateBranch) || 'osa-fleet-state');
  const url = normaliseRepoLocation(requirementsInput);
  const patterns = (
    getListInput(I.requirementsBranches).length
      ? getListInput(I.requirementsBranches)
      : ['stable/*', 'unmaintained/*']
  ).map(globToRegExp);
  const state = new StateFile(
    githubClient(stateToken, apiUrl, core.info),
    parseRepository(env.GITHUB_REPOSITORY ?? '', 'GITHUB_REPOSITORY'),
    stateBranch,
  );
  const { rebuild, follow } = await core.group('What each snap last built against', async () => {
    const refs = await listRemoteRefs(new Git(), url);
    const tips = new Map([...refs.branches].filter(([b]) => patterns.some((p) => p.test(b))));
    core.info(`${redactUrl(url)}: ${[...tips.keys()].join(', ') || 'no matching branches'}`);
    return planRebuilds(repos, tips, (await state.read()).state);
  });
  const started = await withBranches(client, rebuild);
  const why = new Map<string, string>([...started, ...follow].map((t) => [`${key(t)}`, t.reason]));
  if (started.length === 0 && follow.length === 0) {
    core.info("Every snap has been rebuilt against its branch's current constraints.");
    await report('Rebuilds for changed constraints', [], why);
    return;
  }
  const tracked = await core.group(`Rebuild ${started.length} snap branches`, async () => {
    const runs = await dispatchAll(started, fleet);
    const all = [
      ...runs.map((run, i) => ({ commit: started[i]!.commit, run })),
      ...follow.map((f) => ({ commit: f.commit, run: f.run })),
    ];
    // Marked pending at once: if this job dies waiting, the next run follows these runs.
    await state.update(
      (latest) => recordRuns(latest, all, new Date().toISOString()),
      `Fleet rebuilds started: ${runs.filter((r) => !r.error).length}`,
    );
    if (wait)
      await awaitRuns(
        all.map((t) => t.run),
        fleet,
      );
    return all;
  });
  await state.update(
    (latest) => recordRuns(latest, tracked, new Date().toISOString()),
    `Fleet rebuilds: ${tracked.filter((t) => t.run.conclusion === 'success').length} of ${tracked.length} succeeded`,
  );
  // A run still going is not a failure: it is marked pending, and the next run follows it.
  await report(
    'Rebuilds for changed constraints',
    tracked.map((t) => resultOf(t.run)),
    why,
  );
}

const key = (t: { repository?: { owner: string; repo: string }; repo?: string; branch: string }) =>
  `${t.repo ?? `${t.repository!.owner}/${t.repository!.repo}`} ${t.branch}`;

/** Only branches the snap repo has: a snap that never had stable/2023.1 is not rebuilt for it. */
async function withBranches(client: GitHubClient, targets: StaleTarget[]): Promise<StaleTarget[]> {
  const kept: StaleTarget[] = [];
  for (const target of targets) {
    try {
      await client.rest.repos.getBranch({ ...target.repository, branch: target.branch });
      kept.push(target);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      core.info(`${key(target)}: no such branch; nothing to rebuild`);
    }
  }
  return kept;
}

async function report(
  title: string,
  results: FleetResult[],
  why: ReadonlyMap<string, string>,
): Promise<void> {
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
        escapeHtml(why.get(key(r)) ?? 'requested'),
        `${icon(r)} ${escapeHtml(r.error ?? r.conclusion ?? (r.runUrl || r.dispatched ? 'running; the next run follows it' : 'dispatched'))}`,
        r.runUrl ? `<a href="${r.runUrl}">run</a>` : '',
      ]),
    ]);
  await flushSummary();
  if (failed.length)
    core.setFailed(
      `${title} failed in ${failed.map((r) => `${r.repo} ${r.branch} (${r.error ?? r.conclusion})`).join(', ')}`,
    );
}

if (isEntryPoint(import.meta.url)) await run();
