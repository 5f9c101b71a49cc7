// The seam between the cgroups library and the kernel: a handful of synchronous file
// operations on cgroupfs. Control files are tiny pseudo-files, so synchronous calls cost
// microseconds and keep the callers simple. The in-memory twin lets the isolators be tested
// without a kernel (and on machines where cgroups are missing).
import fs from 'node:fs';
import path from 'node:path';

export interface CgroupsFs {
  /** Text of /proc/mounts (where the controllers are mounted). */
  mounts(): string;
  exists(p: string): boolean;
  read(p: string): string;
  write(p: string, text: string): void;
  /** Creates the directory and its missing parents. */
  mkdir(p: string): void;
  /** Removes one empty cgroup directory; throws EBUSY while it has processes or children. */
  rmdir(p: string): void;
  /** Names of the child directories (child cgroups). */
  children(p: string): string[];
}

export class RealCgroupsFs implements CgroupsFs {
  constructor(private readonly mountsFile = '/proc/mounts') {}
  mounts(): string {
    return fs.readFileSync(this.mountsFile, 'utf8');
  }
  exists(p: string): boolean {
    return fs.existsSync(p);
  }
  read(p: string): string {
    return fs.readFileSync(p, 'utf8');
  }
  write(p: string, text: string): void {
    // cgroupfs wants one write(2) per value; writeFileSync does exactly that for short text.
    fs.writeFileSync(p, text);
  }
  mkdir(p: string): void {
    fs.mkdirSync(p, { recursive: true });
  }
  rmdir(p: string): void {
    fs.rmdirSync(p);
  }
  children(p: string): string[] {
    try {
      return fs
        .readdirSync(p, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

/** Control files a new cgroup starts with in the twin, per controller (the kernel's defaults). */
const DEFAULT_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.shares': '1024\n', 'cpu.cfs_period_us': '100000\n', 'cpu.cfs_quota_us': '-1\n', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' },
  cpuacct: { 'cpuacct.stat': 'user 0\nsystem 0\n', 'cpuacct.usage': '0\n' },
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.soft_limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    'memory.memsw.usage_in_bytes': '0\n',
    'memory.failcnt': '0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.stat': 'cache 0\nrss 0\nmapped_file 0\nswap 0\nunevictable 0\ntotal_cache 0\ntotal_rss 0\ntotal_mapped_file 0\ntotal_swap 0\ntotal_unevictable 0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  devices: { 'devices.list': 'a *:* rwm\n', 'devices.allow': '', 'devices.deny': '' },
};

/**
 * The in-memory twin. `mounts` is the /proc/mounts text it reports; directories under a
 * mounted hierarchy get that controller's default control files, `cgroup.procs`/`tasks`
 * writes add a pid (as the kernel does: a write moves, it does not replace), and rmdir
 * refuses a cgroup that still has pids or children. Tests poke counters with set().
 */
export class MemoryCgroupsFs implements CgroupsFs {
  private readonly dirs = new Set<string>();
  private readonly files = new Map<string, string>();
  /** Every write, in order: what a test asserts the isolators did. */
  readonly writes: Array<{ path: string; text: string }> = [];

  constructor(private readonly mountsText: string) {
    for (const m of parseMountLines(mountsText)) this.dirs.add(m.dir);
  }
  mounts(): string {
    return this.mountsText;
  }
  exists(p: string): boolean {
    return this.dirs.has(p) || this.files.has(p);
  }
  read(p: string): string {
    const text = this.files.get(p);
    if (text === undefined) throw enoent(p);
    return text;
  }
  write(p: string, text: string): void {
    if (!this.dirs.has(path.dirname(p))) throw enoent(p);
    this.writes.push({ path: p, text });
    const base = path.basename(p);
    if (base === 'cgroup.procs' || base === 'tasks') {
      const pid = text.trim();
      // A process lives in one cgroup per hierarchy: moving it removes it from the others.
      const root = this.hierarchyOf(p);
      for (const [f, t] of this.files) {
        if (root && f.startsWith(root + '/') && (f.endsWith('/cgroup.procs') || f.endsWith('/tasks'))) {
          this.files.set(f, t.split('\n').filter((l) => l && l !== pid).map((l) => l + '\n').join(''));
        }
      }
      this.files.set(path.join(path.dirname(p), 'cgroup.procs'), (this.files.get(path.join(path.dirname(p), 'cgroup.procs')) ?? '') + `${pid}\n`);
      this.files.set(path.join(path.dirname(p), 'tasks'), (this.files.get(path.join(path.dirname(p), 'tasks')) ?? '') + `${pid}\n`);
      return;
    }
    if (!this.files.has(p)) throw enoent(p);
    this.files.set(p, text.endsWith('\n') ? text : text + '\n');
  }
  mkdir(p: string): void {
    const root = this.hierarchyOf(p);
    if (!root) throw enoent(p);
    const parts = path.relative(root, p).split('/').filter(Boolean);
    let dir = root;
    for (const part of parts) {
      dir = path.join(dir, part);
      if (this.dirs.has(dir)) continue;
      this.dirs.add(dir);
      this.files.set(path.join(dir, 'cgroup.procs'), '');
      this.files.set(path.join(dir, 'tasks'), '');
      for (const controller of this.controllersAt(root)) {
        for (const [name, text] of Object.entries(DEFAULT_FILES[controller] ?? {})) this.files.set(path.join(dir, name), text);
      }
    }
  }
  rmdir(p: string): void {
    if (!this.dirs.has(p)) throw enoent(p);
    if (this.children(p).length > 0 || (this.files.get(path.join(p, 'cgroup.procs')) ?? '').trim() !== '') {
      throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${p}'`), { code: 'EBUSY' });
    }
    this.dirs.delete(p);
    for (const f of [...this.files.keys()]) if (path.dirname(f) === p) this.files.delete(f);
  }
  children(p: string): string[] {
    const out: string[] = [];
    for (const d of this.dirs) if (path.dirname(d) === p && d !== p) out.push(path.basename(d));
    return out;
  }
  /** Sets a control file's content (a test simulating the kernel). */
  set(p: string, text: string): void {
    this.files.set(p, text);
  }
  /** Empties a cgroup's process list (a test simulating its processes dying). */
  clearProcs(dir: string): void {
    this.files.set(path.join(dir, 'cgroup.procs'), '');
    this.files.set(path.join(dir, 'tasks'), '');
  }

  private hierarchyOf(p: string): string | undefined {
    let best: string | undefined;
    for (const m of parseMountLines(this.mountsText)) {
      if ((p === m.dir || p.startsWith(m.dir + '/')) && (!best || m.dir.length > best.length)) best = m.dir;
    }
    return best;
  }
  private controllersAt(root: string): string[] {
    return parseMountLines(this.mountsText).find((m) => m.dir === root)?.controllers ?? [];
  }
}

function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), { code: 'ENOENT' });
}

/** The cgroup v1 lines of a /proc/mounts text: mount dir and the controllers bound there. */
export function parseMountLines(text: string): Array<{ dir: string; controllers: string[] }> {
  const out: Array<{ dir: string; controllers: string[] }> = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[2] !== 'cgroup') continue;
    const dir = f[1]!.replace(/\\040/g, ' ');
    const controllers = f[3]!.split(',').filter((o) => KNOWN_CONTROLLERS.has(o));
    if (controllers.length > 0) out.push({ dir, controllers });
  }
  return out;
}

export const KNOWN_CONTROLLERS = new Set([
  'blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'hugetlb', 'memory', 'net_cls', 'net_prio', 'perf_event', 'pids', 'rdma', 'misc',
]);
