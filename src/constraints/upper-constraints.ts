/** PEP 503 normalised name: lower case, runs of `-`, `_`, `.` become one `-`. */
export function normalizePackageName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_.]+/g, '-');
}

/** One `name===version[;marker]` line of upper-constraints.txt. */
export interface Constraint {
  readonly name: string;
  readonly version: string;
  readonly marker: string | null;
  /** 1-based line number in the file. */
  readonly line: number;
}

// A requirement line: a distribution name, then a version operator; environment marker after `;`.
const LINE =
  /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(===|==|>=|<=|~=|!=|<|>)\s*([^;\s#]+)\s*(?:;\s*(.*?))?\s*$/;

/** Reads the constraints of an upper-constraints.txt; comments and blank lines are skipped. */
export function parseConstraints(text: string): Constraint[] {
  const result: Constraint[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (match) {
      result.push({
        name: match[1]!,
        version: match[3]!,
        marker: match[4] ?? null,
        line: index + 1,
      });
    }
  });
  return result;
}

export interface EditResult {
  readonly text: string;
  /** The lines removed, as they were. */
  readonly removed: string[];
}

/**
 * Drops every line of the named packages (any spelling, every environment-marker variant), as
 * OpenStack's `edit-constraints FILE -- NAME` does. A project built from its own source must not
 * be constrained, or pip refuses: "installation from path or url cannot be constrained to a version".
 */
export function removePackages(text: string, names: Iterable<string>): EditResult {
  const drop = new Set([...names].map(normalizePackageName));
  const removed: string[] = [];
  const kept = text.split('\n').filter((raw) => {
    const match = LINE.exec(raw.trim());
    if (match && drop.has(normalizePackageName(match[1]!))) {
      removed.push(raw.replace(/\r$/, ''));
      return false;
    }
    return true;
  });
  return { text: kept.join('\n'), removed };
}

/** The normalised names a constraints file pins. */
export function constrainedNames(text: string): Set<string> {
  return new Set(parseConstraints(text).map((c) => normalizePackageName(c.name)));
}
