import { ConfigurationError } from './errors.js';
import { normaliseRefName, releaseBranch } from './release-ref.js';
import { SeriesTable } from './series.js';

/** What the event that started a run says, as GitHub gives it. */
export interface PipelineEvent {
  readonly eventName: string;
  /** GITHUB_REF_NAME: the branch or tag pushed, or `<n>/merge` for a pull request. */
  readonly refName: string;
  /** GITHUB_BASE_REF: a pull request's base branch. */
  readonly baseRef?: string;
  /** The repository is a fork (event payload repository.fork). */
  readonly fork: boolean;
  /** workflow_dispatch inputs. */
  readonly inputs?: { readonly branch?: string; readonly publish?: boolean };
}

export interface PipelinePlan {
  /** The release branch or tag whose constraints and track apply. */
  readonly ref: string;
  /** The branch to check out and build (a dispatch may rebuild another branch). */
  readonly checkout: string;
  readonly publish: boolean;
  /** Why publish is on or off, for the summary. */
  readonly reason: string;
}

/**
 * The pipeline's decisions, in one testable place: pull requests build and test against their
 * base branch and never publish; pushes to release branches publish; a dispatch rebuilds the
 * branch it names and publishes unless told not to; forks never publish.
 */
export function planPipeline(event: PipelineEvent, table = new SeriesTable()): PipelinePlan {
  switch (event.eventName) {
    case 'pull_request':
    case 'pull_request_target': {
      if (!event.baseRef)
        throw new ConfigurationError(
          'A pull_request event without a base branch (GITHUB_BASE_REF).',
        );
      const base = normaliseRefName(event.baseRef);
      return {
        ref: base,
        checkout: '',
        publish: false,
        reason: 'pull requests build and test only',
      };
    }
    case 'workflow_dispatch': {
      const branch = normaliseRefName(event.inputs?.branch || event.refName);
      if (event.fork)
        return { ref: branch, checkout: branch, publish: false, reason: 'forks never publish' };
      if (event.inputs?.publish === false)
        return {
          ref: branch,
          checkout: branch,
          publish: false,
          reason: 'the dispatch asked not to publish',
        };
      if (!releaseBranch(branch, table))
        return {
          ref: branch,
          checkout: branch,
          publish: false,
          reason: `${branch} is not a release branch`,
        };
      return {
        ref: branch,
        checkout: branch,
        publish: true,
        reason: `rebuild of ${branch} requested`,
      };
    }
    case 'push':
    case 'schedule': {
      const ref = normaliseRefName(event.refName);
      if (event.fork) return { ref, checkout: '', publish: false, reason: 'forks never publish' };
      if (!releaseBranch(ref, table))
        return { ref, checkout: '', publish: false, reason: `${ref} is not a release branch` };
      return { ref, checkout: '', publish: true, reason: `${event.eventName} to ${ref}` };
    }
    default:
      throw new ConfigurationError(
        `The snap pipeline does not run for '${event.eventName}' events: use pull_request, push, schedule or workflow_dispatch.`,
      );
  }
}
