import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';

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

/**
 * How many nodes the document may expand to through its aliases. Real snapcraft.yaml files are a
 * few thousand at most; a few hundred bytes of nested aliases can stand for hundreds of millions.
 */
export const MAX_EXPANDED_NODES = 100_000;

/**
 * Aliases that no reader of the file survives, at the alias's offset: one inside the node its
 * anchor names (a recursive structure: snapcraft's schema check recurses without end), and, when
 * the document would expand to more than MAX_EXPANDED_NODES, the alias that expands most.
 * Counted with one size per node, so a bomb costs its own size to find, not its expansion.
 */
export function aliasProblems(document: Document): Map<number, string> {
  const problems = new Map<number, string>();
  const aliases: { node: Node & { source: string }; target: unknown }[] = [];
  visit(document, {
    Alias(_key, node, path) {
      const target = node.resolve(document);
      aliases.push({ node, target });
      if (target && path.includes(target as never))
        problems.set(
          node.range?.[0] ?? -1,
          `the alias *${node.source} is inside the node its anchor &${node.source} names, which makes a ` +
            'structure that contains itself; snapcraft cannot read it: copy the keys instead',
        );
    },
  });
  if (problems.size > 0) return problems;
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    const real = isAlias(node) ? node.resolve(document) : node;
    const known = sizes.get(real);
    if (known !== undefined) return known;
    let total = 1;
    if (isMap(real)) for (const pair of real.items) total += size(pair.key) + size(pair.value);
    else if (isSeq(real)) for (const item of real.items) total += size(item);
    else if (isPair(real)) total += size(real.key) + size(real.value);
    total = Math.min(total, MAX_EXPANDED_NODES + 1);
    sizes.set(real, total);
    return total;
  };
  if (size(document.contents) <= MAX_EXPANDED_NODES) return problems;
  const worst = aliases.reduce((a, b) => (size(b.target) > size(a.target) ? b : a));
  problems.set(
    worst.node.range?.[0] ?? -1,
    `the aliases here expand to more than ${MAX_EXPANDED_NODES.toLocaleString('en')} nodes (*${worst.node.source} ` +
      `alone to ${size(worst.target) > MAX_EXPANDED_NODES ? 'more than that' : size(worst.target)}): ` +
      'a snapcraft.yaml is never this large; remove the nested aliases',
  );
  return problems;
}
