// Child process for the crash-consistency test (not a test itself): recovers the
// registry in <work_dir>, then admits <count> agents through the registrar with
// the disk store, keeping <window> admissions outstanding, and prints
// "admitted <id>" only after that agent's admission has resolved (stdout to a
// pipe is synchronous on Linux, so a printed line is never ahead of the disk).
//
// usage: node crash-writer.js <work_dir> <tag> <count> [window]
import { SystemClock } from '../../src/common/clock.js';
import { LocalDiskStore } from '../../src/master/registry/disk-store.js';
import { Registrar } from '../../src/master/registry/registrar.js';
import { MASTER_INFO, agentInfo } from './helpers.js';

async function main(): Promise<void> {
  const [workDir, tag, countArg, windowArg] = process.argv.slice(2);
  if (!workDir || !tag || !countArg) throw new Error('usage: crash-writer <work_dir> <tag> <count> [window]');
  const count = Number(countArg);
  const window = Number(windowArg ?? 25);
  const registrar = new Registrar({ store: new LocalDiskStore(workDir), clock: new SystemClock() });
  const state = await registrar.recover({ ...MASTER_INFO, id: `master-${tag}` });
  process.stdout.write(`recovered ${state.slaves?.slaves?.length ?? 0}\n`);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const id = `${tag}-S${next++}`;
      if (!(await registrar.admitAgent(agentInfo(id)))) throw new Error(`admission of ${id} refused`);
      process.stdout.write(`admitted ${id}\n`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  await registrar.close();
  process.stdout.write('done\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
