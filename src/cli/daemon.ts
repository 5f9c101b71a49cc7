// Shared plumbing for long-running subcommands: usage on --help, flag errors, signals, clean stop.
import { type FlagSpec, FlagsError, flagsUsage } from '../common/flags.js';

export interface DaemonHandle {
  url: string;
  stop(): Promise<void> | void;
  /** Resolves when the daemon stopped on its own (e.g. an agent told to shut down by the master). */
  stopped?: Promise<void>;
  /** SIGTERM/SIGINT, when that is not stop() (the agent leaves checkpointed executors running). */
  terminate?(): Promise<void>;
  /** SIGUSR1, for daemons that have a shutdown distinct from SIGTERM (the agent unregisters). */
  shutdown?(): Promise<void>;
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('--h') || argv.includes('-h');
}

/** Prints a start failure; flag problems also get the usage text, as Mesos does. */
export function reportStartError(program: string, specs: FlagSpec[], err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof FlagsError || (err instanceof Error && err.name === 'FlagsError')) {
    process.stderr.write(`${message}\n\n${flagsUsage(program, specs)}\n`);
  } else {
    process.stderr.write(`Failed to start ${program}: ${message}\n`);
  }
  return 1;
}

/**
 * Resolves with an exit code once SIGINT or SIGTERM (or a signal of `others`) arrived and its
 * action finished. A second signal while stopping exits at once.
 */
export function untilSignal(stop: () => Promise<void>, others: Partial<Record<NodeJS.Signals, () => Promise<void>>> = {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`Received ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      (others[signal] ?? stop)().then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`Error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (const signal of Object.keys(others) as NodeJS.Signals[]) process.on(signal, onSignal);
  });
}

export async function runDaemon(
  program: string,
  label: string,
  specs: FlagSpec[],
  argv: string[],
  start: (argv: string[]) => Promise<DaemonHandle>,
): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${flagsUsage(program, specs)}\n`);
    return 0;
  }
  let handle: DaemonHandle;
  try {
    handle = await start(argv);
  } catch (err) {
    return reportStartError(program, specs, err);
  }
  process.stdout.write(`${label} started at ${handle.url}\n`);
  const bySignal = untilSignal(
    async () => {
      await (handle.terminate ? handle.terminate() : handle.stop());
    },
    handle.shutdown ? { SIGUSR1: () => handle.shutdown!() } : {},
  );
  return handle.stopped ? Promise.race([bySignal, handle.stopped.then(() => 0)]) : bySignal;
}
