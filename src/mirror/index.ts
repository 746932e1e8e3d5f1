/**
 * mirror/: copying the infra's repositories (every branch and tag) to GitHub, incrementally, from
 * a stored bare copy; never losing a ref (destructive changes are bounded and reported).
 */
export { DirectoryStore } from './dir-store.js';
export { mirrorAll } from './mirror.js';
export type { MirrorOptions, MirrorStore, RepoResult } from './mirror.js';
export { checkWorkflow, parseMirrorPairs, parseRefFilter } from './spec.js';
export type { MirrorPair } from './spec.js';
