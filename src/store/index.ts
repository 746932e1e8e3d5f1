/**
 * store/: the Snap Store. Uploading and releasing to a track's edge (and promotion), channels,
 * downloading a snap revision (snapcraft itself, for the build images).
 */
export { RISKS, formatChannel, parseChannel } from './channel.js';
export type { Channel } from './channel.js';
export { downloadStoreRevision, resolveStoreRevision } from './download.js';
export type { StoreRevision } from './download.js';
export { promote, publish } from './publish.js';
export type { PublishResult } from './publish.js';
