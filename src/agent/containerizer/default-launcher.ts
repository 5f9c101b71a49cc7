// --launcher's default, as Mesos computes it: `linux` when the agent runs as root on Linux and
// the freezer controller is mounted (the linux launcher needs it), else `posix`.
import { Cgroups } from './cgroups/cgroups.js';

export function defaultLauncher(): 'linux' | 'posix' {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) return 'posix';
  try {
    return new Cgroups().isMounted('freezer') ? 'linux' : 'posix';
  } catch {
    return 'posix';
  }
}
