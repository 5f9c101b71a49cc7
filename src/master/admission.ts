// Registry-first replies (FT-02): an agent hears SlaveRegistered/SlaveReregistered only after the
// registry write that admits it (or marks it reachable) is durable, so a master crash can never
// forget an agent that was told its id.

/** Agents whose admission is still being written; a registration retry meanwhile is ignored. */
const admitting = new WeakSet<object>();

export function isAdmitting(agent: object): boolean {
  return admitting.has(agent);
}

/**
 * Runs `admitted` once `write` resolved (at once without a registry). A write answering `false`
 * (the operation did not apply: already admitted) still lets the agent in, as Mesos does for a
 * re-admission; a failed write leaves the agent unanswered (it retries; the master should exit).
 */
export function afterAdmission(
  write: Promise<boolean> | undefined,
  then: { admitted: () => void; failed: (e: Error) => void },
  agent: object,
): void {
  if (!write) return then.admitted();
  admitting.add(agent);
  write.then(
    () => {
      admitting.delete(agent);
      then.admitted();
    },
    (e: unknown) => {
      admitting.delete(agent);
      then.failed(e instanceof Error ? e : new Error(String(e)));
    },
  );
}
