// cgroups/devices: a container may open only the usual harmless devices (and what another
// isolator, such as gpu/nvidia, allows for it); mknod of anything stays allowed, as in Mesos.
import type { Msg } from '../../../protocol/codec.js';
import { CgroupsIsolator } from './cgroups-base.js';

export const DEFAULT_DEVICE_WHITELIST = [
  'c *:* m', // mknod of any character device
  'b *:* m', // mknod of any block device
  'c 1:3 rwm', // /dev/null
  'c 1:5 rwm', // /dev/zero
  'c 1:7 rwm', // /dev/full
  'c 1:8 rwm', // /dev/random
  'c 1:9 rwm', // /dev/urandom
  'c 5:0 rwm', // /dev/tty
  'c 5:1 rwm', // /dev/console
  'c 5:2 rwm', // /dev/ptmx
  'c 4:0 rwm', // /dev/tty0
  'c 4:1 rwm', // /dev/tty1
  'c 136:* rwm', // /dev/pts/*
  'c 10:200 rwm', // /dev/net/tun
];

export class CgroupsDevicesIsolator extends CgroupsIsolator {
  readonly name = 'cgroups/devices';
  readonly controllers = ['devices'];

  protected async configure(id: string, _resources: Msg[], initial: boolean): Promise<void> {
    if (!initial) return;
    this.cg.write('devices', id, 'devices.deny', 'a');
    for (const rule of DEFAULT_DEVICE_WHITELIST) this.allow(id, rule);
  }

  allow(id: string, rule: string): void {
    this.cg.write('devices', id, 'devices.allow', rule);
  }

  deny(id: string, rule: string): void {
    this.cg.write('devices', id, 'devices.deny', rule);
  }

  async usage(): Promise<Msg> {
    return {};
  }
}
