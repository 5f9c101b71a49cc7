// getpwnam() for the few launches that switch user (Node has no binding for it).
import fs from 'node:fs';

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function lookupUser(name: string, passwd = '/etc/passwd'): UserEntry | undefined {
  let text: string;
  try {
    text = fs.readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[0] === name) {
      return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
    }
  }
  return undefined;
}
