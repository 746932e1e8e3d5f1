/**
 * A unified diff (`diff -u` format) of two texts, for job summaries and logs. Line-based LCS; fine
 * for files of a few thousand lines, which is what snapcraft.yaml and constraints files are.
 */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  const ops = diffLines(a, b);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    // Grow a hunk around this change, merging changes closer than 2*context lines.
    let start = i;
    while (start > 0 && i - start < context && ops[start - 1]!.kind === ' ') start--;
    let end = i;
    let quiet = 0;
    while (end < ops.length && quiet <= 2 * context) {
      quiet = ops[end]!.kind === ' ' ? quiet + 1 : 0;
      end++;
    }
    end -= Math.max(0, quiet - context);
    const slice = ops.slice(start, end);
    const oldStart = slice[0]!.aLine;
    const newStart = slice[0]!.bLine;
    const oldCount = slice.filter((o) => o.kind !== '+').length;
    const newCount = slice.filter((o) => o.kind !== '-').length;
    hunks.push(
      `@@ -${oldStart + 1},${oldCount} +${newStart + 1},${newCount} @@`,
      ...slice.map((o) => `${o.kind}${o.text}`),
    );
    i = end;
  }
  return [`--- a/${name}`, `+++ b/${name}`, ...hunks].join('\n') + '\n';
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  aLine: number;
  bLine: number;
}

function diffLines(a: string[], b: string[]): Op[] {
  // Trim the common head and tail first: rewrites touch a few lines of long files.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const n = am.length;
  const m = bm.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      lcs[x]![y] =
        am[x] === bm[y] ? lcs[x + 1]![y + 1]! + 1 : Math.max(lcs[x + 1]![y]!, lcs[x]![y + 1]!);
    }
  }
  const ops: Op[] = [];
  for (let k = 0; k < head; k++) ops.push({ kind: ' ', text: a[k]!, aLine: k, bLine: k });
  let x = 0;
  let y = 0;
  while (x < n || y < m) {
    if (x < n && y < m && am[x] === bm[y]) {
      ops.push({ kind: ' ', text: am[x]!, aLine: head + x, bLine: head + y });
      x++;
      y++;
    } else if (x < n && (y === m || lcs[x + 1]![y]! >= lcs[x]![y + 1]!)) {
      ops.push({ kind: '-', text: am[x]!, aLine: head + x, bLine: head + y });
      x++;
    } else {
      ops.push({ kind: '+', text: bm[y]!, aLine: head + x, bLine: head + y });
      y++;
    }
  }
  for (let k = 0; k < tail; k++) {
    ops.push({
      kind: ' ',
      text: a[a.length - tail + k]!,
      aLine: a.length - tail + k,
      bLine: b.length - tail + k,
    });
  }
  return ops;
}
