// `meseta <command> [flags]`: one file per subcommand, loaded lazily so `execute` never loads the master.

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  master: { summary: 'run a master (mesos-master)', load: () => import('./master.js') },
  agent: { summary: 'run an agent (mesos-agent)', load: () => import('./agent.js') },
  slave: { summary: 'alias of agent', load: () => import('./agent.js') },
  local: { summary: 'run a master and N agents in one process (mesos-local)', load: () => import('./local.js') },
  execute: { summary: 'run one task and print its status updates (mesos-execute)', load: () => import('./execute.js') },
};

export function usage(): string {
  const lines = ['Usage: meseta <command> [--flag=value ...]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push(`  ${'help'.padEnd(8)} show this text, or \`meseta help <command>\` for its flags`);
  lines.push('', 'Flags may also be given as MESOS_<FLAG> environment variables.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const target = command === 'help' ? rest[0] : undefined;
    if (target && COMMANDS[target]) return (await COMMANDS[target].load()).run(['--help']);
    process.stdout.write(usage() + '\n');
    return command === undefined ? 1 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`Unknown command '${command}'\n\n${usage()}\n`);
    return 1;
  }
  return (await entry.load()).run(rest);
}

/** Runs `main` and exits with its code (daemons resolve only after a signal stopped them). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
