// `meseta master` / bin/mesos-master.
import { MASTER_FLAGS, startMaster } from '../master/main.js';
import { runDaemon } from './daemon.js';

export function run(argv: string[]): Promise<number> {
  return runDaemon('mesos-master', 'Master', MASTER_FLAGS, argv, (a) =>
    startMaster(a, {
      // As Mesos does: a master that lost leadership must not act on anything any more; its
      // supervisor restarts it as a fresh contender.
      onLeadershipLost: (reason) => {
        process.stderr.write(`Lost leadership (${reason}); committing suicide\n`);
        process.exit(1);
      },
    }),
  );
}
