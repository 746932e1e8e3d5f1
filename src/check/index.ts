/**
 * check/: what a snap repo's workflow does on each event, on GitHub's own workflow parser and
 * expression evaluator (the job-graph evaluator the tests use too), with this toolkit's plan and
 * matrix actions: the checker a maintainer runs on their repository (`osa-check`).
 */
export { checkWorkflow } from './check.js';
export type { CheckOptions, EventReport } from './check.js';
