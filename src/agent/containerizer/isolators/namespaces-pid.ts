// namespaces/pid: the task gets its own pid namespace (and a private /proc to match) through
// util-linux's unshare as a launch prefix. The supervisor becomes pid 1 inside it, so when it
// exits the kernel kills everything left in the namespace.
import type { Msg } from '../../../protocol/codec.js';
import { never, type ContainerConfig, type Isolator, type LaunchInfo, type Limitation } from './isolator.js';

export const UNSHARE_PID_PREFIX = ['--pid', '--fork', '--mount-proc', '--kill-child'];

export class NamespacesPidIsolator implements Isolator {
  readonly name = 'namespaces/pid';
  constructor(private readonly unshare = 'unshare') {}

  async prepare(_config: ContainerConfig): Promise<LaunchInfo | undefined> {
    return { launchPrefix: [this.unshare, ...UNSHARE_PID_PREFIX] };
  }
  async isolate(): Promise<void> {}
  watch(): Promise<Limitation> {
    return never();
  }
  async update(): Promise<void> {}
  async usage(): Promise<Msg> {
    return {};
  }
  async cleanup(): Promise<void> {}
}
