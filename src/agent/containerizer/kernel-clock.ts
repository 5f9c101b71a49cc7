// The clock for waiting on the kernel (freezer kill-all, cgroup removal, OOM polls): real time,
// whatever Clock drives the agent's protocol timers. A pending one-shot wait keeps the process
// alive (a destroy must not be cut short because the event loop looked idle); periodic polls
// do not, so a forgotten watch never pins a process.
import type { Clock, TimerHandle } from '../../common/clock.js';

interface Handle extends TimerHandle {
  raw: NodeJS.Timeout;
}

export class KernelClock implements Clock {
  private next = 1;
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return { id: this.next++, raw: setTimeout(fn, Math.max(0, ms)) } as Handle;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) clearTimeout((handle as Handle).raw);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const raw = setInterval(fn, Math.max(1, ms));
    raw.unref();
    return { id: this.next++, raw } as Handle;
  }
  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) clearInterval((handle as Handle).raw);
  }
}
