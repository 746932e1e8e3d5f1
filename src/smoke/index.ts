/**
 * smoke/: a smoke test of a built service snap in snap-test's all-in-one cloud: deploy, check
 * the APIs, boot an instance, upgrade, each step bounded, logs collected on failure.
 */
export { SERVICES } from './services.js';
export type { SmokeLevel } from './services.js';
export { smokeTest } from './smoke-test.js';
export type { SmokeOutcome, SmokeTestOptions } from './smoke-test.js';
