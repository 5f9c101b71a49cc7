// Process-tree helpers over /proc (Linux): used to make sure nothing we started outlives us.
import { readFileSync, readdirSync } from 'node:fs';

/** Parent pid of `pid` from /proc/<pid>/stat, or undefined if it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined; // a zombie is already dead
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, ...). */
export function descendantPids(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentPid(pid);
    if (ppid === undefined) continue;
    let list = children.get(ppid);
    if (!list) children.set(ppid, (list = []));
    list.push(pid);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  return parentPid(pid) !== undefined;
}

/** SIGKILLs each pid that is still alive; returns the ones that were. */
export function killAll(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): number[] {
  const killed: number[] = [];
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, signal);
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}
