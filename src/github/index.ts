/**
 * github/: what the toolkit asks of GitHub. The pipeline plan (what an event builds, whether it
 * publishes), dispatching builds after a mirror, fleet rebuilds and the state that remembers
 * what each snap branch last built against.
 */
export { branchTip, githubClient, parseRepository } from './api.js';
export type { GitHubClient } from './api.js';
export { dispatchForChanges } from './dispatch.js';
export type { DispatchResult } from './dispatch.js';
export { FLEET_STATE } from './fleet-state.js';
export { putBranchFile, StateFile } from './state-file.js';
export type { StateCodec } from './state-file.js';
export { parseFleetRepo, rebuildFleet } from './fleet.js';
export type { FleetOptions, FleetResult } from './fleet.js';
export { planPipeline } from './plan.js';
export type { PipelineEvent, PipelinePlan } from './plan.js';
export { rebuildForConstraints, targetKey } from './constraint-rebuilds.js';
export type { ConstraintRebuildOptions, ConstraintRebuilds } from './constraint-rebuilds.js';
