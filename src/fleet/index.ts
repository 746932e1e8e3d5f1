/**
 * fleet/: the build repository. One repository of the snap org lists the fleet (fleet.yml: which
 * snap repositories, branches and arches), and each run builds and publishes every snap branch
 * whose commit or constraints commit differs from what was last published, with a state file on
 * a branch of its own that makes rebuilds level-triggered; the status page shows the fleet.
 */
export { DEFAULT_FLEET_BRANCHES, DEFAULT_MAX_BUILDS, parseFleetConfig } from './config.js';
export type { FleetConfig, FleetSnap } from './config.js';
export { planFleet, recordFleet, STATE_FILE } from './run.js';
export type { FleetContext, FleetPlan, FleetTarget } from './run.js';
export { artifactPrefix, BUILD_STATE, publishedMarker, retryAfter, targetKey } from './state.js';
export type { BuildState, Decision, TargetState } from './state.js';
export { statusPage, statusRows, statusSummary } from './status.js';
export type { StatusRow } from './status.js';
