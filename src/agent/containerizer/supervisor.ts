// The per-task supervisor: a few lines of /bin/sh that are the task's parent.
//
// Why a shell and not a Node process: a Node process costs ~40 MB and ~70 ms of CPU to start;
// dash costs well under 1 MB of private memory and a millisecond or two.
//
// What it does (argv: $1 run dir, $2 argv[0] override or "", $3... the program and arguments):
// - catches TERM/INT/HUP/QUIT with a trap, so a signal sent to the container's process
//   group does not take the supervisor down before it has recorded the task's status. A caught
//   (not ignored) disposition is reset to the default in the forked task, so the task itself still
//   dies of SIGTERM. The task runs in the foreground, so non-interactive sh does not set SIGINT
//   and SIGQUIT to ignored for it the way it does for `cmd &`;
// - a signal caught before the task existed (a kill racing the launch) is remembered in $k, and
//   the subshell, whose traps are back to the defaults, sends it to itself before it execs: the
//   kill is not lost, and the task ends as if it had received it;
// - the subshell records its own pid (the task's pid, kept by `exec`) in forked.pid;
// - `exec -a` (bash) gives the program a different argv[0] when CommandInfo.arguments[0]
//   differs from CommandInfo.value; without bash the program sees its path as argv[0];
// - when the task ends, the status ($?, 128+N for signal N) is written to `status` (one short
//   write by the builtin echo: no `mv`, which would cost a fork and exec per task), then the
//   supervisor exits with the same code. A reader may see the file empty only while the
//   supervisor is still alive, which recovery treats as running. A restarted agent can read
//   `pid`, `forked.pid` and `status` to re-adopt or account for the task.
export const SUPERVISOR_SCRIPT = [
  "r=$1 a=$2 k=''; shift 2",
  "trap 'k=TERM' TERM; trap 'k=INT' INT; trap 'k=HUP' HUP; trap 'k=QUIT' QUIT",
  '(',
  '  read -r p x < /proc/self/stat && echo "$p" > "$r/forked.pid"',
  '  if [ -n "$k" ]; then kill -s "$k" "$p"; fi',
  '  if [ -z "$a" ] || [ ! -x /bin/bash ]; then exec "$@"; fi',
  '  exec /bin/bash -c \'exec -a "$0" "$@"\' "$a" "$@"',
  ')',
  's=$?',
  'echo "$s" > "$r/status"',
  'exit "$s"',
].join('\n');

/** $0 of the supervisor shell: how a restarted agent recognises its supervisors in /proc. */
export const SUPERVISOR_NAME = 'meseta-supervisor';

export interface Program {
  /** argv[0] when it differs from `path`, else "". */
  argv0: string;
  path: string;
  args: string[];
}

/** CommandInfo -> what to exec: `sh -c value` (shell, the default) or value with arguments. */
export function programFor(command: { shell?: boolean; value?: string; arguments?: string[] }): Program {
  const value = command.value ?? '';
  if (command.shell !== false) return { argv0: '', path: '/bin/sh', args: ['-c', value] };
  const argv = command.arguments ?? [];
  if (argv.length === 0) return { argv0: '', path: value, args: [] };
  return { argv0: argv[0] === value ? '' : argv[0]!, path: value, args: argv.slice(1) };
}

export function supervisorArgv(runDir: string, program: Program): string[] {
  return ['-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME, runDir, program.argv0, program.path, ...program.args];
}
