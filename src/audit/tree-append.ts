import { nodeHash } from './merkle.ts';

export type StoredNode = { level: number; index: number; hash: Uint8Array };

/**
 * The perfect subtrees that appending `leafHashes` to a tree of `size` leaves completes, level 0 included.
 * `frontier` is the tree's right edge before the append: the perfect subtrees of `size`'s binary
 * decomposition, largest (leftmost) first, exactly the nodes `rootPlan(size)` names.
 * Pure: the log store reads the frontier and writes what this returns, in one transaction.
 */
export function nodesCompletedByAppend(size: number, frontier: StoredNode[], leafHashes: Uint8Array[]): StoredNode[] {
  const stack = frontier.slice();
  const created: StoredNode[] = [];
  let index = size;
  for (const hash of leafHashes) {
    let node: StoredNode = { level: 0, index, hash };
    created.push(node);
    // Two equal-level subtrees side by side are siblings: merge until the right edge is canonical again.
    let top = stack[stack.length - 1];
    while (top !== undefined && top.level === node.level) {
      stack.pop();
      node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
      created.push(node);
      top = stack[stack.length - 1];
    }
    stack.push(node);
    index += 1;
  }
  return created;
}
