// The JSON Mesos gives for one directory entry in /files/browse (model(FileInfo)).
import type { Stats } from 'node:fs';
import fs from 'node:fs';

export interface FileInfoJson {
  path: string;
  nlink: number;
  size: number;
  mtime: number;
  mode: string;
  uid: string;
  gid: string;
}

/** uid/gid -> names, as getpwuid/getgrgid would give; numbers when unknown. */
export class IdNames {
  private constructor(
    private readonly users: Map<number, string>,
    private readonly groups: Map<number, string>,
  ) {}

  static async load(passwd = '/etc/passwd', group = '/etc/group'): Promise<IdNames> {
    const [u, g] = await Promise.all([readIdFile(passwd), readIdFile(group)]);
    return new IdNames(u, g);
  }
  user(uid: number): string {
    return this.users.get(uid) ?? String(uid);
  }
  group(gid: number): string {
    return this.groups.get(gid) ?? String(gid);
  }
}

async function readIdFile(file: string): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  let text = '';
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return map;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !map.has(id)) map.set(id, f[0]!);
  }
  return map;
}

/** "drwxr-xr-x"-style: type character plus the nine permission bits. */
export function modeString(mode: number): string {
  const type = mode & 0o170000;
  let c = '-';
  if (type === 0o040000) c = 'd';
  else if (type === 0o020000) c = 'c';
  else if (type === 0o060000) c = 'b';
  else if (type === 0o010000) c = 'p';
  else if (type === 0o120000) c = 'l';
  else if (type === 0o140000) c = 's';
  const rwx = (shift: number) =>
    `${mode & (4 << shift) ? 'r' : '-'}${mode & (2 << shift) ? 'w' : '-'}${mode & (1 << shift) ? 'x' : '-'}`;
  return c + rwx(6) + rwx(3) + rwx(0);
}

export function fileInfoJson(virtualPath: string, s: Stats, names: IdNames): FileInfoJson {
  return {
    path: virtualPath,
    nlink: s.nlink,
    size: s.size,
    mtime: Math.floor(s.mtimeMs / 1000), // whole seconds, as Mesos takes st_mtime
    mode: modeString(s.mode),
    uid: names.user(s.uid),
    gid: names.group(s.gid),
  };
}
