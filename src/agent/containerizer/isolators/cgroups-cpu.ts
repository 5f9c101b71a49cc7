// cgroups/cpu: cpu.shares (1024 per cpu, min 2; revocable cpus weigh 10 per cpu) and, with
// --cgroups_enable_cfs, a CFS quota; usage from cpuacct (and throttling from cpu.stat).
import type { Msg } from '../../../protocol/codec.js';
import { CPU_CFS_PERIOD_US, cfsQuotaUs, cpuShares } from '../cgroups/limits.js';
import { cpuStats, cpuacctStats, processStats } from '../cgroups/stats.js';
import { CgroupsIsolator, type CgroupsIsolatorOptions } from './cgroups-base.js';
import { revocableCpus, scalar } from './isolator.js';

export interface CgroupsCpuOptions extends CgroupsIsolatorOptions {
  /** --cgroups_enable_cfs */
  enableCfs?: boolean;
  /** --cgroups_cpu_enable_pids_and_tids_count */
  countPidsAndTids?: boolean;
}

export class CgroupsCpuIsolator extends CgroupsIsolator {
  readonly name = 'cgroups/cpu';
  readonly controllers: string[];

  constructor(private readonly cpuOpts: CgroupsCpuOptions) {
    super(cpuOpts);
    // cpu and cpuacct may be co-mounted; one cgroup then serves both.
    const cg = cpuOpts.cgroups;
    this.controllers = cg.mountPoint('cpu') === cg.mountPoint('cpuacct') ? ['cpu'] : ['cpu', 'cpuacct'];
  }

  protected async configure(id: string, resources: Msg[]): Promise<void> {
    const cpus = scalar(resources, 'cpus');
    if (cpus === undefined) return; // no cpus: kernel defaults (Mesos does the same)
    this.cg.write('cpu', id, 'cpu.shares', cpuShares(cpus, revocableCpus(resources)));
    if (this.cpuOpts.enableCfs) {
      this.cg.write('cpu', id, 'cpu.cfs_period_us', CPU_CFS_PERIOD_US);
      this.cg.write('cpu', id, 'cpu.cfs_quota_us', cfsQuotaUs(cpus));
    }
  }

  async usage(id: string): Promise<Msg> {
    const out: Msg = { ...cpuacctStats(this.cg, id) };
    const cpus = scalar(this.resources.get(id) ?? [], 'cpus');
    if (cpus !== undefined) out.cpus_limit = cpus;
    if (this.cpuOpts.enableCfs) Object.assign(out, cpuStats(this.cg, id));
    if (this.cpuOpts.countPidsAndTids) Object.assign(out, processStats(this.cg, id, 'cpuacct'));
    return out;
  }
}
