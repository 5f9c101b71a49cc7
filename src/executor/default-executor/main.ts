// `mesos-default-executor`: reads the environment the agent gives every executor (EXE-30) and
// runs the DefaultExecutor until it has nothing left to do.
import { SystemClock } from '../../common/clock.js';
import { logger } from '../../common/log.js';
import { parseDuration } from '../../common/units.js';
import { AgentClient } from './agent-client.js';
import { DefaultExecutor } from './executor.js';

const log = logger('default-executor');

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`Expecting '${name}' in the environment`);
  return v;
}

function duration(env: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const v = env[name];
  if (!v) return fallbackMs;
  try {
    return parseDuration(v);
  } catch {
    return fallbackMs;
  }
}

/** Runs the executor; resolves with the exit code once it is done. */
export function runDefaultExecutor(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise<number>((done) => {
    // The clock's timers are unref'ed: while the agent is away (re-subscribing after an agent
    // restart) nothing else keeps this process alive, so hold it open until the executor exits.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const resolve = (code: number) => {
      clearInterval(keepAlive);
      done(code);
    };
    let executor: DefaultExecutor;
    try {
      executor = new DefaultExecutor({
        client: new AgentClient(required(env, 'MESOS_AGENT_ENDPOINT')),
        clock: new SystemClock(),
        frameworkId: required(env, 'MESOS_FRAMEWORK_ID'),
        executorId: required(env, 'MESOS_EXECUTOR_ID'),
        checkpoint: env.MESOS_CHECKPOINT === '1',
        recoveryTimeoutMs: duration(env, 'MESOS_RECOVERY_TIMEOUT', 15 * 60_000),
        subscriptionBackoffMaxMs: duration(env, 'MESOS_SUBSCRIPTION_BACKOFF_MAX', 2_000),
        exit: resolve,
      });
    } catch (e) {
      log.error((e as Error).message);
      resolve(1);
      return;
    }
    executor.start().catch((e: Error) => {
      log.error(`Failed to subscribe to the agent: ${e.message}`);
      resolve(1);
    });
  });
}

/** Entry point of bin/mesos-default-executor. */
export async function main(): Promise<void> {
  const code = await runDefaultExecutor();
  process.exit(code);
}
