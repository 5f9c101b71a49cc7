// The kernel's boot id: a different one in meta/boot_id means the host rebooted since the
// checkpoint, so no process the old agent started can still be alive.
import fs from 'node:fs';

export function currentBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Without /proc there is no way to tell; the process start of the oldest process is a stand-in.
    return 'unknown';
  }
}
