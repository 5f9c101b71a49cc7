// `meseta agent` / bin/mesos-agent (and bin/mesos-slave).
import { AGENT_FLAGS, startAgent } from '../agent/main.js';
import { runDaemon } from './daemon.js';

export function run(argv: string[]): Promise<number> {
  return runDaemon('mesos-agent', 'Agent', AGENT_FLAGS, argv, (a) => startAgent(a));
}
