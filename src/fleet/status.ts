import { escapeHtml } from '../platform/index.js';
import type { FleetConfig, FleetSnap } from './config.js';
import { retryAfter, targetKey, type BuildState, type TargetState } from './state.js';

/** One row of the status: a snap branch and one of its arches. */
export interface StatusRow {
  readonly snap: string;
  readonly branch: string;
  readonly arch: string;
  readonly state: 'published' | 'building' | 'failed' | 'never built';
  readonly commit: string | null;
  readonly commitUrl: string | null;
  readonly constraints: string | null;
  readonly constraintsUrl: string | null;
  readonly revision: number | null;
  readonly channel: string | null;
  readonly publishedAt: string | null;
  readonly building: {
    readonly url: string;
    readonly since: string;
    readonly commit: string;
    readonly commitUrl: string;
  } | null;
  readonly failure: {
    /** The commit that failed to build (and its page). */
    readonly commit: string;
    readonly commitUrl: string;
    readonly url: string | null;
    readonly at: string;
    readonly count: number;
    readonly retry: string;
  } | null;
}

export interface StatusOptions {
  /** GITHUB_SERVER_URL, for links to the snap repositories' commits. */
  readonly serverUrl: string;
  /** When the page was made. */
  readonly at: string;
  /** The run that made it. */
  readonly runUrl: string;
}

/** The fleet as a table: snap x branch x arch, from the state (branches as the state knows them). */
export function statusRows(
  config: FleetConfig,
  state: BuildState,
  options: StatusOptions,
): StatusRow[] {
  const rows: StatusRow[] = [];
  const server = options.serverUrl.replace(/\/+$/, '');
  for (const snap of config.snaps) {
    const branches = Object.keys(state.targets)
      .filter((key) => key.startsWith(`${snap.name} `))
      .map((key) => key.slice(snap.name.length + 1))
      .sort(branchOrder);
    for (const branch of branches) {
      const target = state.targets[targetKey(snap.name, branch)]!;
      for (const arch of snap.arches) rows.push(row(snap, branch, arch, target, config, server));
    }
  }
  return rows;
}

function row(
  snap: FleetSnap,
  branch: string,
  arch: string,
  target: TargetState,
  config: FleetConfig,
  server: string,
): StatusRow {
  const { published, claim, failure } = target;
  const current = failure && (!published || failure.at > published.at) ? failure : null;
  const page = (sha: string): string =>
    `${server}/${snap.repository.owner}/${snap.repository.repo}/commit/${sha}`;
  return {
    snap: snap.name,
    branch,
    arch,
    state: claim ? 'building' : current ? 'failed' : published ? 'published' : 'never built',
    commit: published?.sha ?? null,
    commitUrl: published ? page(published.sha) : null,
    constraints: published?.constraints ?? null,
    constraintsUrl: published ? commitUrl(config.requirements, published.constraints) : null,
    revision: published?.revisions?.[arch] ?? null,
    channel: published?.channel ?? null,
    publishedAt: published?.at ?? null,
    building: claim
      ? { url: claim.runUrl, since: claim.since, commit: claim.sha, commitUrl: page(claim.sha) }
      : null,
    failure: current
      ? {
          commit: current.sha,
          commitUrl: page(current.sha),
          url: current.run,
          at: current.at,
          count: current.count,
          retry: new Date(retryAfter(current)).toISOString(),
        }
      : null,
  };
}

/** master first, then newest series first (stable/2025.2 before stable/2025.1). */
function branchOrder(a: string, b: string): number {
  const development = (x: string): boolean => x === 'master' || x === 'main';
  if (development(a) !== development(b)) return development(a) ? -1 : 1;
  const series = (x: string): string => x.slice(x.indexOf('/') + 1);
  return series(b).localeCompare(series(a)) || a.localeCompare(b);
}

/** A commit page on GitHub or Gitea (opendev) for an https repository URL; null for other URLs. */
function commitUrl(repository: string, sha: string): string | null {
  if (!/^https:\/\//.test(repository)) return null;
  return `${repository.replace(/\.git$/, '').replace(/\/+$/, '')}/commit/${sha}`;
}

const short = (sha: string | null): string => (sha ? sha.slice(0, 12) : '');
const day = (iso: string | null): string => (iso ? iso.replace('T', ' ').slice(0, 16) : '');

function link(url: string | null, text: string): string {
  return url ? `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>` : escapeHtml(text);
}

function nowCell(r: StatusRow): string {
  if (r.building)
    return `building ${link(r.building.commitUrl, short(r.building.commit))} since ${escapeHtml(day(r.building.since))} (${link(r.building.url, 'run')})`;
  if (r.failure)
    return `${link(r.failure.commitUrl, short(r.failure.commit))} failed ${r.failure.count === 1 ? 'once' : `${r.failure.count} times`} (${link(r.failure.url, 'run')}), tried again after ${escapeHtml(day(r.failure.retry))}`;
  return r.state === 'published' ? 'up to date' : 'never built';
}

/** The static page: one table, no script, readable without styles, linked to every run. */
export function statusPage(rows: readonly StatusRow[], options: StatusOptions): string {
  const counts = (['published', 'building', 'failed', 'never built'] as const)
    .map(
      (state) =>
        [
          state,
          new Set(rows.filter((r) => r.state === state).map((r) => `${r.snap} ${r.branch}`)).size,
        ] as const,
    )
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const body = rows
    .map((r, i) => {
      const first = i === 0 || rows[i - 1]!.snap !== r.snap || rows[i - 1]!.branch !== r.branch;
      const span = rows.filter((o) => o.snap === r.snap && o.branch === r.branch).length;
      const shared = first
        ? `<th scope="rowgroup" rowspan="${span}">${escapeHtml(r.snap)}</th><td rowspan="${span}">${escapeHtml(r.branch)}</td>` +
          `<td rowspan="${span}"><code>${link(r.commitUrl, short(r.commit))}</code></td>` +
          `<td rowspan="${span}"><code>${link(r.constraintsUrl, short(r.constraints))}</code></td>`
        : '';
      const revision = r.revision !== null ? `${r.revision}` : '';
      const tail = first
        ? `<td rowspan="${span}">${escapeHtml(r.channel ?? '')}</td><td rowspan="${span}">${escapeHtml(day(r.publishedAt))}</td>` +
          `<td rowspan="${span}" class="${r.state.replace(' ', '-')}">${nowCell(r)}</td>`
        : '';
      return `<tr>${shared}<td>${escapeHtml(r.arch)}</td><td>${escapeHtml(revision)}</td>${tail}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenStack snaps: fleet status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
.failed { background: #ffebe9; } .building { background: #fff8c5; } .published { background: #dafbe1; }
</style>
</head>
<body>
<h1>OpenStack snaps</h1>
<p>${escapeHtml(counts || 'No snap branch built yet')}. Made ${escapeHtml(day(options.at))} UTC by ${link(options.runUrl, 'this run')}.</p>
<table>
<thead><tr><th scope="col">Snap</th><th scope="col">Branch</th><th scope="col">Commit</th><th scope="col">Constraints</th><th scope="col">Arch</th><th scope="col">Revision</th><th scope="col">Channel</th><th scope="col">Published</th><th scope="col">Now</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}

/** The same table for the job summary (HTML, as the summary renders it), a row per snap branch. */
export function statusSummary(rows: readonly StatusRow[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const r of rows) {
    const key = `${r.snap} ${r.branch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const revisions = rows
      .filter((o) => o.snap === r.snap && o.branch === r.branch && o.revision !== null)
      .map((o) => `${o.arch} ${o.revision}`)
      .join(', ');
    lines.push(
      `<tr><td>${escapeHtml(r.snap)}</td><td>${escapeHtml(r.branch)}</td><td><code>${link(r.commitUrl, short(r.commit))}</code></td>` +
        `<td><code>${link(r.constraintsUrl, short(r.constraints))}</code></td><td>${escapeHtml(revisions)}${r.channel ? ` on ${escapeHtml(r.channel)}` : ''}</td><td>${nowCell(r)}</td></tr>`,
    );
  }
  return `<table><tr><th>Snap</th><th>Branch</th><th>Commit</th><th>Constraints</th><th>Revisions</th><th>Now</th></tr>\n${lines.join('\n')}\n</table>\n`;
}
