/**
 * PEP 508 environment markers, as far as a build can know them ahead of time: the python version
 * of the base, Linux. Anything else (the machine, an extra) is unknown, and an unknown marker may
 * apply. Three-valued: true, false, or null for "cannot tell".
 */
export interface MarkerEnvironment {
  /** `major.minor` of the python the part installs for; undefined when unknown. */
  readonly python?: string;
}

type Tri = boolean | null;

const FIXED: Readonly<Record<string, string>> = {
  sys_platform: 'linux',
  platform_system: 'Linux',
  os_name: 'posix',
  implementation_name: 'cpython',
  platform_python_implementation: 'CPython',
};

/** Whether `marker` may hold in `env`: false only when it surely does not. */
export function markerMayApply(marker: string | null, env: MarkerEnvironment): boolean {
  if (!marker) return true;
  try {
    return evaluate(marker, env) !== false;
  } catch {
    return true; // a marker this reader cannot parse may apply
  }
}

function evaluate(marker: string, env: MarkerEnvironment): Tri {
  const tokens = tokenize(marker);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (): string => {
    const token = tokens[i++];
    if (token === undefined) throw new SyntaxError('marker ends early');
    return token;
  };
  const value = (token: string): string | null => {
    if (/^["']/.test(token)) return token.slice(1, -1);
    if (token === 'python_version') return env.python ?? null;
    return FIXED[token] ?? null;
  };
  const comparison = (): Tri => {
    if (peek() === '(') {
      next();
      const inner = or();
      if (next() !== ')') throw new SyntaxError('unbalanced parenthesis');
      return inner;
    }
    const leftToken = next();
    let op = next();
    if (op === 'not') op = `not ${next()}`;
    const rightToken = next();
    // python_full_version is known only to major.minor: it holds when every patch level would
    // give the same answer (3.8.0 and 3.8.99), and is unknown otherwise.
    if ([leftToken, rightToken].includes('python_full_version')) {
      if (!env.python) return null;
      const at = (patch: string): Tri => {
        const full = `${env.python}.${patch}`;
        return leftToken === 'python_full_version'
          ? compare(full, op, value(rightToken) ?? '', true)
          : compare(value(leftToken) ?? '', op, full, true);
      };
      const low = at('0');
      return low === at('999') ? low : null;
    }
    const left = value(leftToken);
    const right = value(rightToken);
    if (left === null || right === null) return null;
    const versions = /python_version/.test(leftToken + rightToken);
    return compare(left, op, right, versions);
  };
  const and = (): Tri => {
    let result = comparison();
    while (peek() === 'and') {
      next();
      const right = comparison();
      result =
        result === false || right === false
          ? false
          : result === null || right === null
            ? null
            : true;
    }
    return result;
  };
  const or = (): Tri => {
    let result = and();
    while (peek() === 'or') {
      next();
      const right = and();
      result =
        result === true || right === true ? true : result === null || right === null ? null : false;
    }
    return result;
  };
  const result = or();
  if (i !== tokens.length) throw new SyntaxError('trailing marker text');
  return result;
}

function tokenize(marker: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*(\(|\)|===|==|!=|<=|>=|~=|<|>|"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.]*)/y;
  let at = 0;
  while (at < marker.length) {
    if (/^\s*$/.test(marker.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(marker);
    if (!match) throw new SyntaxError(`cannot read '${marker.slice(at)}'`);
    tokens.push(match[1]!);
    at = pattern.lastIndex;
  }
  return tokens;
}

function compare(left: string, op: string, right: string, versions: boolean): Tri {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (!versions) {
    if (op === '==' || op === '===') return left === right;
    if (op === '!=') return left !== right;
    return null;
  }
  const order = compareReleases(left, right);
  switch (op) {
    case '==':
    case '===':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '~=': {
      // Compatible release: at least `right`, within its last-but-one component.
      const parts = right.split('.');
      if (parts.length < 2) return null;
      const ceiling = [...parts.slice(0, -2), String(Number(parts[parts.length - 2]) + 1)].join(
        '.',
      );
      return order >= 0 && compareReleases(left, ceiling) < 0;
    }
    default:
      return null;
  }
}

/** Orders two dotted numeric releases (`3.10` after `3.9`); missing parts count as 0. */
export function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
