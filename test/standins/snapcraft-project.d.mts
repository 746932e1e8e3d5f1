/** The stand-in snapcraft's project checks (snapcraft-project.mjs); see that file for the sources. */
export interface StandinSnapcraft {
  readonly version: string;
  readonly major: number;
  readonly bases: readonly (string | null)[];
}
export class SnapcraftError extends Error {}
export function snapcraftOfChannel(channel: string | undefined): StandinSnapcraft;
export function generationOfBase(base: string | null): '2.43' | 'v1' | 'v2' | 'craft-parts';
export function checkCommandLine(
  snapcraft: StandinSnapcraft,
  base: string | null,
  args: readonly string[],
): 'lxd' | 'host' | 'destructive';
export function checkCleanbuildContainer(env: NodeJS.ProcessEnv): void;
export function expand(value: string, table: Readonly<Record<string, string>>): string;
export interface LegacyPart {
  readonly project: string;
  readonly part: string;
  readonly sourceDir: string | null;
  readonly sourceSubdir?: string;
}
export function findLegacyFile(where: LegacyPart, filename: string): string | null;
export function readLegacyManifestFile(where: LegacyPart, path: string): string;
export function projectFile(dir: string): string;
export function loadProject(dir: string): { file: string; data: Record<string, unknown> };
export function checkParts(dir: string, base: string | null): string[];
