// cgroups/pids: counts a container's processes and threads; with `pidsMax` (not a Mesos
// flag: Mesos's pids subsystem only accounts) it also caps them, which stops fork bombs.
import type { Msg } from '../../../protocol/codec.js';
import { countThreads } from '../cgroups/stats.js';
import { CgroupsIsolator, type CgroupsIsolatorOptions } from './cgroups-base.js';

export interface CgroupsPidsOptions extends CgroupsIsolatorOptions {
  pidsMax?: number;
}

export class CgroupsPidsIsolator extends CgroupsIsolator {
  readonly name = 'cgroups/pids';
  readonly controllers = ['pids'];

  constructor(private readonly pidsOpts: CgroupsPidsOptions) {
    super(pidsOpts);
  }

  protected async configure(id: string, _resources: Msg[], initial: boolean): Promise<void> {
    if (initial && this.pidsOpts.pidsMax !== undefined) this.cg.write('pids', id, 'pids.max', this.pidsOpts.pidsMax);
  }

  async usage(id: string): Promise<Msg> {
    const pids = this.cg.procs('pids', id);
    return { processes: pids.length, threads: countThreads(pids) };
  }
}
