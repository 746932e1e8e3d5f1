/**
 * constraints/: a release's pip constraints from openstack/requirements (which branch or tag,
 * fetched by commit, cached), and applying them to every Python part of snapcraft.yaml, less the
 * projects the snap builds from source.
 */
export { DEFAULT_CONSTRAINTS_PATH, PIN_CONFLICT_POLICIES, constrain } from './constrain.js';
export type { ConstrainOptions, ConstrainResult, PinConflictPolicy } from './constrain.js';
export type { PinConflict } from './pins.js';
export {
  DEFAULT_REQUIREMENTS_REPO,
  listRemoteRefs,
  normaliseRepoLocation,
  constraintsTip,
  resolveConstraintsCommit,
  resolveConstraintsRef,
} from './requirements-repo.js';
