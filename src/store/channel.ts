import { ConfigurationError } from '../platform/index.js';

export const RISKS = ['stable', 'candidate', 'beta', 'edge'] as const;
export type Risk = (typeof RISKS)[number];

/** A Snap Store channel: `track/risk[/branch]`; `latest` when the track is left out. */
export interface Channel {
  readonly track: string;
  readonly risk: Risk;
  readonly branch: string | null;
}

export function parseChannel(text: string): Channel {
  const parts = text.trim().split('/');
  const bad = (): never => {
    throw new ConfigurationError(
      `'${text}' is not a store channel: write track/risk[/branch], e.g. 2025.1/edge or latest/beta.`,
    );
  };
  if (parts.some((p) => !/^[a-z0-9][a-z0-9._-]*$/i.test(p))) bad();
  let track = 'latest';
  let rest = parts;
  if (!RISKS.includes(parts[0] as Risk)) {
    track = parts[0]!;
    rest = parts.slice(1);
  }
  const [risk, branch, extra] = rest;
  if (!risk || !RISKS.includes(risk as Risk) || extra !== undefined) bad();
  return { track, risk: risk as Risk, branch: branch ?? null };
}

export function formatChannel(channel: Channel): string {
  return [channel.track, channel.risk, channel.branch].filter(Boolean).join('/');
}

/** `grade: devel` snaps may only go to edge and beta (the store refuses the rest). */
export function checkGrade(grade: string, channel: Channel, file: string): void {
  if (grade === 'devel' && (channel.risk === 'stable' || channel.risk === 'candidate')) {
    throw new ConfigurationError(
      `${file} has grade devel, which the store refuses on ${formatChannel(channel)}: release it to edge or beta, ` +
        `or build it with grade: stable.`,
    );
  }
}
