/** A whole-string RegExp for a glob where `*` matches anything (`/` included) and all else is literal. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}
