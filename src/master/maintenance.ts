// Maintenance primitives (MNT-01): the schedule of unavailability windows, machines in DRAINING
// (scheduled) or DOWN mode, and which machine an agent runs on. The Master owns one MaintenanceBook.
import type { Msg } from './allocator/allocator.js';
import { canonicalJson } from './tasks/validation.js';

export type MachineId = { hostname?: string; ip?: string };

export function machineKey(id: MachineId): string {
  return `${(id.hostname ?? '').toLowerCase()}/${id.ip ?? ''}`;
}

/** Whether a scheduled MachineID names the machine of an agent (unset parts match anything). */
export function machineMatches(machine: MachineId, hostname: string, ip: string): boolean {
  if (machine.hostname !== undefined && machine.hostname.toLowerCase() !== hostname.toLowerCase()) return false;
  if (machine.ip !== undefined && machine.ip !== ip) return false;
  return true;
}

const label = (id: MachineId) => canonicalJson({ hostname: id.hostname, ip: id.ip });

export class MaintenanceBook {
  private schedule: Msg = { windows: [] };
  private readonly down = new Map<string, MachineId>();

  get current(): Msg {
    return this.schedule;
  }

  downMachines(): MachineId[] {
    return [...this.down.values()];
  }

  /** Machines scheduled for maintenance that are not down yet. */
  drainingMachines(): MachineId[] {
    const out: MachineId[] = [];
    for (const w of (this.schedule.windows ?? []) as Msg[]) {
      for (const m of (w.machine_ids ?? []) as MachineId[]) if (!this.down.has(machineKey(m))) out.push(m);
    }
    return out;
  }

  /** The Unavailability scheduled for the machine of an agent, if any. */
  unavailabilityFor(hostname: string, ip: string): Msg | undefined {
    for (const w of (this.schedule.windows ?? []) as Msg[]) {
      for (const m of (w.machine_ids ?? []) as MachineId[]) if (machineMatches(m, hostname, ip)) return w.unavailability;
    }
    return undefined;
  }

  isDown(hostname: string, ip: string): boolean {
    for (const m of this.down.values()) if (machineMatches(m, hostname, ip)) return true;
    return false;
  }

  private scheduled(): Map<string, MachineId> {
    const out = new Map<string, MachineId>();
    for (const w of (this.schedule.windows ?? []) as Msg[]) for (const m of (w.machine_ids ?? []) as MachineId[]) out.set(machineKey(m), m);
    return out;
  }

  /** Validates a new schedule (Mesos's rules); undefined when it may replace the current one. */
  validateSchedule(schedule: Msg): string | undefined {
    const seen = new Set<string>();
    for (const w of (schedule.windows ?? []) as Msg[]) {
      const machines = (w.machine_ids ?? []) as MachineId[];
      if (machines.length === 0) return 'List of machines in the maintenance window is empty';
      if (!w.unavailability?.start) return "Maintenance window is missing 'unavailability.start'";
      if (Number(w.unavailability.duration?.nanoseconds ?? 0) < 0) return 'Unavailability duration is negative';
      for (const m of machines) {
        if (!m.hostname && !m.ip) return "Both 'hostname' and 'ip' for a machine are empty";
        if (seen.has(machineKey(m))) return `Machine ${label(m)} appears more than once in the schedule`;
        seen.add(machineKey(m));
      }
    }
    for (const [key, m] of this.down) {
      if (!seen.has(key)) return `Machine ${label(m)} is deactivated and must be present in the schedule`;
    }
    return undefined;
  }

  setSchedule(schedule: Msg): void {
    this.schedule = { windows: [...((schedule.windows ?? []) as Msg[])] };
  }

  /** START_MAINTENANCE / machine/down: every machine must be scheduled and not down yet. */
  validateDown(machines: MachineId[]): string | undefined {
    if (machines.length === 0) return 'List of machines is empty';
    const scheduled = this.scheduled();
    for (const m of machines) {
      if (!m.hostname && !m.ip) return "Both 'hostname' and 'ip' for a machine are empty";
      if (!scheduled.has(machineKey(m))) return `Machine ${label(m)} is not part of a maintenance schedule`;
      if (this.down.has(machineKey(m))) return `Machine ${label(m)} is already down`;
    }
    return undefined;
  }

  markDown(machines: MachineId[]): void {
    for (const m of machines) this.down.set(machineKey(m), m);
  }

  /** STOP_MAINTENANCE / machine/up: every machine must be down. */
  validateUp(machines: MachineId[]): string | undefined {
    if (machines.length === 0) return 'List of machines is empty';
    for (const m of machines) {
      if (!this.down.has(machineKey(m))) return `Machine ${label(m)} is not in DOWN mode and cannot be brought up`;
    }
    return undefined;
  }

  /** Machines come back up and leave the schedule. */
  markUp(machines: MachineId[]): void {
    const keys = new Set(machines.map(machineKey));
    for (const k of keys) this.down.delete(k);
    const windows = ((this.schedule.windows ?? []) as Msg[])
      .map((w) => ({ ...w, machine_ids: ((w.machine_ids ?? []) as MachineId[]).filter((m) => !keys.has(machineKey(m))) }))
      .filter((w) => w.machine_ids.length > 0);
    this.schedule = { windows };
  }
}
