import { ConfigurationError, exec, ExternalError, MissingProgramError } from '../platform/index.js';

/** Why the store said no, from what snapcraft printed. */
export type StoreFailureKind =
  | 'duplicate'
  | 'review-pending'
  | 'manual-review'
  | 'credentials'
  | 'permission'
  | 'transient'
  | 'unknown';

export class StoreError extends ExternalError {
  override readonly name = 'StoreError';
  constructor(
    readonly kind: StoreFailureKind,
    message: string,
    /** A revision the store created anyway (manual review). */
    readonly revision: number | null = null,
  ) {
    super(message, { retryable: kind === 'transient' || kind === 'review-pending' });
  }
}

const PATTERNS: [StoreFailureKind, RegExp][] = [
  ['duplicate', /binary_sha3_384|exact same content has already been uploaded/i],
  ['review-pending', /waiting for previous upload\(s\) to complete their review/i],
  ['manual-review', /will need manual review/i],
  [
    'credentials',
    /credentials are no longer valid|macaroon[- ]needs[- ]refresh|invalid[- ]credentials|no valid credentials|not logged in/i,
  ],
  [
    'permission',
    /permission denied|not the publisher|lacks? (the )?permission|not allowed to|forbidden|insufficient.*scope/i,
  ],
  [
    'transient',
    /\b(500|502|503|504)\b|service unavailable|timed? ?out|connection (error|reset|refused|aborted)|temporary failure|network is unreachable|remote end closed/i,
  ],
];

/** Classifies snapcraft's output of a failed store command. */
export function classifyStoreFailure(output: string): StoreFailureKind {
  return PATTERNS.find(([, re]) => re.test(output))?.[0] ?? 'unknown';
}

/** The line of snapcraft's output that explains a failure. */
function reason(output: string): string {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines.find((l) => PATTERNS.some(([, re]) => re.test(l))) ??
    lines.find((l) => /^error/i.test(l)) ??
    lines.at(-1) ??
    ''
  ).replace(/^error:\s*/i, '');
}

const HINTS: Record<StoreFailureKind, string> = {
  duplicate: '',
  'review-pending':
    'the store is still reviewing an earlier upload of this snap; rerun once it is done',
  'manual-review':
    "a store reviewer must approve it (see the snap's page on the store dashboard) before it can be released",
  credentials:
    'the store credentials have expired or are invalid: export new ones with `snapcraft export-login --snaps NAME --acls package_access,package_push,package_update,package_release -` and update the SNAPCRAFT_STORE_CREDENTIALS secret',
  permission:
    'the store credentials do not allow this: export them with package_push and package_release for this snap and its channels, by an account that collaborates on the snap',
  transient: 'the store or the network failed; retried',
  unknown: '',
};

export interface RevisionRow {
  readonly revision: number;
  readonly version: string;
  readonly arches: string[];
}

/**
 * The one place the toolkit runs snapcraft for the store: argv arrays, credentials only in the
 * child's environment (SNAPCRAFT_STORE_CREDENTIALS), never a prompt, and failures classified.
 */
export class SnapcraftCli {
  constructor(
    private readonly options: {
      readonly command?: string;
      readonly credentials: string;
      readonly env?: Readonly<Record<string, string>>;
      readonly onOutput?: (line: string) => void;
    },
  ) {}

  /** Uploads without releasing; returns the revision the store created. */
  async upload(file: string): Promise<number> {
    const output = await this.run(['upload', file]);
    const match = /Revision (\d+) created/i.exec(output);
    if (!match)
      throw new StoreError(
        'unknown',
        `snapcraft upload ${file} printed no revision: ${reason(output)}`,
      );
    return Number(match[1]);
  }

  /** Releases one revision to every channel given, in one call. */
  async release(name: string, revision: number, channels: string[]): Promise<void> {
    await this.run(['release', name, String(revision), channels.join(',')]);
  }

  /** The snap's revisions, newest first. */
  async revisions(name: string): Promise<RevisionRow[]> {
    const output = await this.run(['list-revisions', name]);
    const rows: RevisionRow[] = [];
    for (const line of output.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (!/^\d+$/.test(cols[0] ?? '')) continue;
      // Rev. Uploaded Arches Version Channels
      rows.push({
        revision: Number(cols[0]),
        arches: (cols[2] ?? '').split(','),
        version: cols[3] ?? '',
      });
    }
    return rows.sort((a, b) => b.revision - a.revision);
  }

  private async run(args: string[]): Promise<string> {
    const command = this.options.command ?? 'snapcraft';
    let result;
    try {
      result = await exec([command, ...args], {
        env: {
          ...this.options.env,
          SNAPCRAFT_STORE_CREDENTIALS: this.options.credentials,
          SNAPCRAFT_HAS_TTY: 'no',
          CRAFT_VERBOSITY_LEVEL: 'brief',
        },
        secrets: [this.options.credentials],
        onLine: (line) => {
          if (line.trim()) this.options.onOutput?.(line);
        },
      });
    } catch (error) {
      if (!(error instanceof MissingProgramError)) throw error;
      throw new ConfigurationError(
        `Cannot run ${command} (not installed): install snapcraft (snap install snapcraft --classic), or leave the action's setup on.`,
      );
    }
    const output = result.lines.join('\n');
    if (result.code === 0) return output;
    const kind = classifyStoreFailure(output);
    const revision = /Revision (\d+)/i.exec(output);
    const hint = HINTS[kind];
    throw new StoreError(
      kind,
      `snapcraft ${args[0]} failed (exit ${result.code}): ${reason(output).replace(/\.$/, '')}.${hint ? ` ${hint[0]!.toUpperCase()}${hint.slice(1)}.` : ''}`,
      revision ? Number(revision[1]) : null,
    );
  }
}
