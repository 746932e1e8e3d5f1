/**
 * The events trusted to publish, push or dispatch: the one definition, used by the pipeline's
 * plan and by publish, mirror pushes and dispatches. Anything else (pull_request*, merge_group,
 * workflow_run, issue_comment, pull_request_review*) can run a fork's code or a stranger's
 * request; a workflow_run that follows a fork's PR, for one, carries its head.
 */
export const PUBLISHING_EVENTS = [
  'push',
  'workflow_dispatch',
  'schedule',
  'repository_dispatch',
] as const;

export function mayPublishOn(eventName: string): boolean {
  return (PUBLISHING_EVENTS as readonly string[]).includes(eventName);
}

/** Events that build and test a proposed change against its base branch, never publishing. */
export const CHANGE_EVENTS = ['pull_request', 'pull_request_target', 'merge_group'] as const;
