// The status update manager's journal for checkpointing frameworks: UPDATE and ACK records in
// each task's task.updates, fsync'ed before the update is acknowledged to the executor.
import { logger } from '../../common/log.js';
import type { Msg } from '../../protocol/codec.js';
import type { StatusUpdateJournal } from '../status-updates/manager.js';
import type { Checkpointer, RunRef } from './writer.js';

const log = logger('checkpoint');

/** `runOf` answers where a task's checkpoints live, or undefined when its framework does not checkpoint. */
export function checkpointJournal(checkpoints: Checkpointer, runOf: (frameworkId: string, taskId: string) => RunRef | undefined): StatusUpdateJournal {
  return {
    appended(update: Msg): void {
      const taskId = update.status?.task_id?.value as string;
      const run = runOf(update.framework_id?.value as string, taskId);
      if (!run) return;
      try {
        checkpoints.update(run, taskId, update);
      } catch (e) {
        log.error(`Failed to checkpoint a status update of task ${taskId}: ${(e as Error).message}`);
      }
    },
    acknowledged(frameworkId: string, taskId: string, uuid: Buffer): void {
      const run = runOf(frameworkId, taskId);
      if (!run) return;
      try {
        checkpoints.ack(run, taskId, uuid);
      } catch (e) {
        log.error(`Failed to checkpoint an acknowledgement of task ${taskId}: ${(e as Error).message}`);
      }
    },
  };
}
