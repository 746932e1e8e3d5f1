import { isAlias, isMap, isScalar, isSeq, type Document, type Pair, type YAMLMap } from 'yaml';

/** Reading the yaml library's nodes as snapcraft reads them: aliases resolved, merges applied. */

/** An alias's target, or the node itself. */
export function resolveNode(node: unknown, document: Document): unknown {
  return isAlias(node) ? node.resolve(document) : node;
}

const MERGE_KEY = '<<';

export function isMergePair(pair: Pair): boolean {
  const key = pair.key;
  if (typeof key === 'symbol') return true;
  return isScalar(key) && (key.value === MERGE_KEY || typeof key.value === 'symbol');
}

/**
 * The pair that gives `key` its value in a map, as YAML 1.1 merges resolve it: the map's own
 * pair, else the first merged map (`<<: *anchor` or `<<: [*a, *b]`) that has it.
 */
export function effectivePair(map: YAMLMap, key: string, document: Document): Pair | undefined {
  const own = map.items.find((p) => !isMergePair(p) && keyString(p) === key);
  if (own) return own;
  for (const pair of map.items.filter(isMergePair)) {
    const value = resolveNode(pair.value, document);
    const sources = isSeq(value) ? value.items.map((i) => resolveNode(i, document)) : [value];
    for (const source of sources) {
      if (!isMap(source)) continue;
      const found = effectivePair(source, key, document);
      if (found) return found;
    }
  }
  return undefined;
}

export function keyString(pair: Pair): string {
  const key = pair.key;
  return String(isScalar(key) ? key.value : key);
}

export function scalarString(node: unknown): string | undefined {
  if (isScalar(node) && node.value !== null && node.value !== undefined) return String(node.value);
  return undefined;
}

/** A list's (or a single value's) strings, aliases resolved; items that are not strings are left out. */
export function stringList(node: unknown, document: Document): string[] {
  if (isSeq(node))
    return node.items
      .map((item) => scalarString(resolveNode(item, document)))
      .filter((s): s is string => !!s);
  const single = scalarString(node);
  return single ? [single] : [];
}
