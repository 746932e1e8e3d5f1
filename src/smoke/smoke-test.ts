import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSnapInfo, type SnapInfo } from '../snapcraft/index.js';
import { collectLogs } from './collect.js';
import { deploymentSteps, type DeployOptions } from './deploy.js';
import { junitXml, runSteps, type SuiteResult } from './engine.js';
import { hasSmokeRecipe, SERVICES } from './services.js';

export interface SmokeTestOptions extends Omit<DeployOptions, 'snap' | 'file'> {
  /** The .snap built. */
  readonly snapFile: string;
  /** Built under qemu-user emulation: a cloud there would time out, not test anything. */
  readonly emulated: boolean;
  /** Say what would run, run nothing. */
  readonly dryRun: boolean;
  /** Where junit.xml and, on failure, the collected logs go. */
  readonly logsDir: string;
  readonly log?: (line: string) => void;
}

export type SmokeOutcome =
  | {
      readonly result: 'skipped';
      /** Why, for the summary; and in a few words, for the annotation. */
      readonly why: string;
      readonly brief: string;
      readonly snap: SnapInfo | null;
    }
  | { readonly result: 'dry-run'; readonly snap: SnapInfo; readonly steps: string[] }
  | {
      readonly result: 'passed' | 'failed';
      readonly snap: SnapInfo;
      readonly suite: SuiteResult;
      readonly junit: string;
      /** Where each snap from the store came from, and the channels that had none. */
      readonly fromStore: StoreInstall[];
    };

export interface StoreInstall {
  readonly snap: string;
  readonly channel: string;
  readonly passed: readonly string[];
}

/**
 * A smoke test of one built snap in snap-test's all-in-one cloud, at the asked level. Skipped
 * (not failed) where it cannot mean anything: an emulated build, a snap the cloud has no recipe
 * for. A failure's logs are collected into `logsDir`; junit.xml is written there either way.
 */
export async function smokeTest(options: SmokeTestOptions): Promise<SmokeOutcome> {
  if (options.emulated)
    return {
      result: 'skipped',
      why: 'this build is emulated; the cloud runs only on native amd64 or arm64 runners',
      brief: 'emulated architecture',
      snap: null,
    };
  const snap = await readSnapInfo(options.snapFile);
  if (!hasSmokeRecipe(snap.name)) {
    const why = `the all-in-one cloud has no recipe for ${snap.name} (it tests ${SERVICES.map((s) => s.snap).join(', ')})`;
    return { result: 'skipped', why, brief: why, snap };
  }
  const fromStore: StoreInstall[] = [];
  const steps = deploymentSteps({
    ...options,
    snap: snap.name,
    file: snap.file,
    onStoreInstall: (name, channel, passed) => fromStore.push({ snap: name, channel, passed }),
  });
  if (options.dryRun) return { result: 'dry-run', snap, steps: steps.map((s) => s.name) };
  const suite = await runSteps(`${snap.name} ${options.level}`, steps, {
    log: options.log,
    collect: async (failed) =>
      void (await collectLogs(options.logsDir, failed, { asRoot: options.asRoot })),
  });
  mkdirSync(options.logsDir, { recursive: true });
  const junit = join(options.logsDir, 'junit.xml');
  writeFileSync(junit, junitXml(suite));
  return { result: suite.passed ? 'passed' : 'failed', snap, suite, junit, fromStore };
}
