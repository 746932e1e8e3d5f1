import { ConfigurationError } from '../platform/index.js';
import {
  CHANGE_EVENTS,
  mayPublishOn,
  namesNoSeries,
  normaliseRefName,
  PUBLISHING_EVENTS,
  releaseBranch,
  releaseRefOf,
  SeriesTable,
} from '../release/index.js';

/** What the event that started a run says, as GitHub gives it. */
export interface PipelineEvent {
  readonly eventName: string;
  /** GITHUB_REF_NAME: the branch or tag pushed, or `<n>/merge` for a pull request. */
  readonly refName: string;
  /** GITHUB_BASE_REF: a pull request's base branch. */
  readonly baseRef?: string;
  /** A merge_group event's base (payload merge_group.base_ref, `refs/heads/main`). */
  readonly mergeGroupBaseRef?: string;
  /** The repository is a fork (event payload repository.fork). */
  readonly fork: boolean;
  /** workflow_dispatch inputs. */
  readonly inputs?: { readonly branch?: string; readonly publish?: boolean };
  /**
   * Another repository's branch this run builds (a build repository's scheduled or dispatched
   * run building a mirrored snap repository, which has no workflow of its own).
   */
  readonly build?: { readonly repository: string; readonly branch: string };
  /** The series the caller says its branches carry (the workflow's `series` input), if any. */
  readonly series?: string;
}

export interface PipelinePlan {
  /** The branch or tag whose constraints and track apply. */
  readonly ref: string;
  /** The branch to check out and build ('' for the event's own commit). */
  readonly checkout: string;
  readonly publish: boolean;
  /** Whether the release's constraints apply: false for a branch that carries no release. */
  readonly constraints: boolean;
  /** The series the legs build as, where the ref names none itself (the series input); '' otherwise. */
  readonly series: string;
  /** Why publish is on or off, for the summary. */
  readonly reason: string;
}

/**
 * The pipeline's decisions, in one testable place: changes proposed (pull requests, merge
 * queues) build and test against their base branch and never publish; pushes to release branches
 * publish; a dispatch rebuilds the branch it names and publishes unless told not to; forks never
 * publish; a branch that carries no release builds without release constraints and does not
 * publish; events that could carry a stranger's code do not run the pipeline at all.
 */
export function planPipeline(event: PipelineEvent, table = new SeriesTable()): PipelinePlan {
  const name = event.eventName;
  // A branch shaped like a release that names no series (stable/2023.1.2) builds as it is, or
  // with the series the caller names; it is never refused here, and never publishes.
  const namesItsSeries = (ref: string): boolean =>
    !namesNoSeries(ref, table) && releaseRefOf(ref, table) !== null;
  const constraintsFor = (ref: string): boolean => !!event.series || namesItsSeries(ref);
  const seriesFor = (ref: string): string => (namesItsSeries(ref) ? '' : (event.series ?? ''));
  if ((CHANGE_EVENTS as readonly string[]).includes(name)) {
    if (event.build)
      throw new ConfigurationError(
        `'repository' (${event.build.repository}) builds another repository's branch, which only a build repository's ` +
          `scheduled or dispatched run does; a ${name} event builds the change proposed to this repository: leave 'repository' empty.`,
      );
    const raw = name === 'merge_group' ? event.mergeGroupBaseRef : event.baseRef;
    if (!raw)
      throw new ConfigurationError(
        `A ${name} event without a base branch (${name === 'merge_group' ? 'merge_group.base_ref' : 'GITHUB_BASE_REF'}).`,
      );
    const base = normaliseRefName(raw);
    return {
      ref: base,
      checkout: '',
      publish: false,
      constraints: constraintsFor(base),
      series: seriesFor(base),
      reason:
        name === 'merge_group'
          ? 'merge queues build and test only'
          : 'pull requests build and test only',
    };
  }
  if (!mayPublishOn(name)) {
    throw new ConfigurationError(
      `The snap pipeline does not run for '${name}' events: use pull_request, merge_group, ${PUBLISHING_EVENTS.join(', ')}.`,
    );
  }
  const dispatch = name === 'workflow_dispatch';
  // A dispatch names the branch to rebuild; a build of another repository always names one.
  const named = event.build?.branch ?? (dispatch ? event.inputs?.branch : undefined);
  if (named) checkDispatchedBranch(named);
  const ref = normaliseRefName(named || event.refName);
  const plan = {
    ref,
    checkout: named || dispatch ? ref : '',
    constraints: constraintsFor(ref),
    series: seriesFor(ref),
  };
  const refuse = (reason: string): PipelinePlan => ({ ...plan, publish: false, reason });
  if (event.fork) return refuse('forks never publish');
  if ((dispatch || event.build) && event.inputs?.publish === false)
    return refuse(`the ${event.build ? 'caller' : 'dispatch'} asked not to publish`);
  if (namesNoSeries(ref, table)) {
    return refuse(
      event.series
        ? `${ref} names no OpenStack series: it builds with ${event.series}'s constraints (the series input) ` +
            `but does not publish, as its builds would take turns on a track with the series' own branch`
        : `${ref} names no OpenStack series, so it builds without release constraints and does not publish ` +
            `(set the workflow's series input to build it with a series' constraints)`,
    );
  }
  if (!releaseBranch(ref, table)) {
    return refuse(
      `${ref} is not a release branch${plan.constraints ? '' : ', so it builds without release constraints'}`,
    );
  }
  return {
    ...plan,
    publish: true,
    reason: event.build
      ? `${event.build.repository} ${ref}, built by this repository's ${name} run`
      : dispatch
        ? `rebuild of ${ref} requested`
        : `${name} to ${ref}`,
  };
}

/**
 * A dispatch rebuilds a branch (or an -eol/-eom tag) of this repository by its name. Anything
 * else names code that is not the repository's own: `refs/pull/N/head` is a pull request's, a
 * fork's included, and a commit id may be one; building it as a trusted run would give it the
 * release's caches (and, on a remote leg, Launchpad's credentials).
 */
function checkDispatchedBranch(input: string): void {
  const name = input.trim();
  const why = /^refs\/(?!heads\/|tags\/)/.test(name)
    ? `'${name}' is not a branch of this repository (refs/pull/* is a pull request's, a fork's included)`
    : /^[0-9a-f]{7,64}$/i.test(name)
      ? `'${name}' looks like a commit id, not a branch name`
      : null;
  if (why)
    throw new ConfigurationError(
      `${why}: a dispatch rebuilds a branch by its name (e.g. stable/2025.1). Build a pull request by its pull_request event, which never publishes.`,
    );
}
