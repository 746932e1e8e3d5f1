/**
 * release/: OpenStack's release model. The series table (codename, release id, status), release
 * refs (master, stable/*, unmaintained/*, -eom and -eol tags), tracks, and which events are
 * trusted to publish.
 */
export { CHANGE_EVENTS, PUBLISHING_EVENTS, mayPublishOn } from './events.js';
export {
  RELEASE_BRANCH_PATTERNS,
  companionChannels,
  namesNoSeries,
  normaliseRefName,
  parseReleaseRef,
  parseTrackMap,
  releaseBranch,
  releaseRefOf,
  releaseTarget,
} from './ref.js';
export type { ReleaseRef } from './ref.js';
export { SeriesTable } from './series.js';
