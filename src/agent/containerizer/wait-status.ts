// Raw wait statuses (exit << 8 | signal) and the words Mesos uses to describe them.
import { constants } from 'node:os';
import type { Limitation } from './isolators/isolator.js';

const SIGNAL_NUMBERS = constants.signals as Record<string, number>;
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(SIGNAL_NUMBERS)) {
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);
}
// SIGIOT/SIGPOLL alias SIGABRT/SIGIO; keep the common names.
SIGNAL_NAMES.set(6, 'SIGABRT');
SIGNAL_NAMES.set(29, 'SIGIO');

/** glibc's strsignal() texts, which Mesos puts into "Command terminated with signal ...". */
const DESCRIPTIONS: Record<number, string> = {
  1: 'Hangup', 2: 'Interrupt', 3: 'Quit', 4: 'Illegal instruction', 5: 'Trace/breakpoint trap',
  6: 'Aborted', 7: 'Bus error', 8: 'Floating point exception', 9: 'Killed', 10: 'User defined signal 1',
  11: 'Segmentation fault', 12: 'User defined signal 2', 13: 'Broken pipe', 14: 'Alarm clock',
  15: 'Terminated', 16: 'Stack fault', 17: 'Child exited', 18: 'Continued', 19: 'Stopped (signal)',
  20: 'Stopped', 21: 'Stopped (tty input)', 22: 'Stopped (tty output)', 23: 'Urgent I/O condition',
  24: 'CPU time limit exceeded', 25: 'File size limit exceeded', 26: 'Virtual timer expired',
  27: 'Profiling timer expired', 28: 'Window changed', 29: 'I/O possible', 30: 'Power failure',
  31: 'Bad system call',
};

export interface Termination {
  /** Raw wait status: exit code << 8, or the terminating signal number. */
  status: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when an isolator's limit (OOM, disk quota) ended the container. */
  limitation?: Limitation;
}

export function signalNumber(name: string): number | undefined {
  return SIGNAL_NUMBERS[name];
}

export function signalName(n: number): NodeJS.Signals | undefined {
  return SIGNAL_NAMES.get(n);
}

export function exitedWith(code: number): Termination {
  return { status: (code & 0xff) << 8, exitCode: code & 0xff, signal: null };
}

export function signaledBy(n: number): Termination {
  return { status: n & 0x7f, exitCode: null, signal: signalName(n) ?? null };
}

/**
 * The supervisor is a shell, and a shell reports a child killed by signal N as exit 128+N.
 * Codes 129..192 are therefore read back as signals (a task that itself exits 129..192 is
 * indistinguishable from one killed by that signal; sh-based Mesos tasks share this).
 */
export function fromShellStatus(code: number): Termination {
  if (code > 128 && code - 128 <= 64) return signaledBy(code - 128);
  return exitedWith(code);
}

/** Mesos's WSTRINGIFY: "exited with status N" / "terminated with signal <strsignal>". */
export function describeStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) return `exited with status ${(status >> 8) & 0xff}`;
  const text = DESCRIPTIONS[signal] ?? (signal >= 34 ? `Real-time signal ${signal - 34}` : `Unknown signal ${signal}`);
  return `terminated with signal ${text}`;
}
