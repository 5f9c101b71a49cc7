// `meseta master` / bin/mesos-master.
import { MASTER_FLAGS, startMaster } from '../master/main.js';
import { runDaemon } from './daemon.js';

export function run(argv: string[]): Promise<number> {
  return runDaemon('mesos-master', 'Master', MASTER_FLAGS, argv, (a) => startMaster(a));
}
