// `meseta execute` / bin/mesos-execute (CMP-14): a one-shot v1 scheduler that runs one task,
// prints each status update as it arrives, and exits 0 only if the task finished.
import { userInfo } from 'node:os';
import { type Clock, type TimerHandle, SystemClock } from '../common/clock.js';
import { type FlagSpec, Flags, FlagsError, flagsUsage, parseFlags } from '../common/flags.js';
import { fromJson } from '../protocol/codec.js';
import { Resources } from '../resources/index.js';
import { SchedulerClient } from '../scheduler/client.js';
import type { ContentType, Msg } from '../scheduler/wire.js';

export const EXECUTE_FLAGS: FlagSpec[] = [
  { name: 'master', kind: 'string', help: 'Master address: host:port, http://host:port, zk://host:port[,host:port]/path or file:///path', required: true },
  { name: 'name', kind: 'string', help: 'Name of the task (also its id unless --task sets one)' },
  { name: 'command', kind: 'string', help: 'Shell command to launch' },
  { name: 'shell', kind: 'bool', help: 'Run --command through /bin/sh -c', default: 'true' },
  { name: 'arguments', kind: 'string', help: 'JSON array of arguments, used when --no-shell' },
  { name: 'env', kind: 'string', help: 'JSON object of environment variables for the command' },
  { name: 'resources', kind: 'string', help: 'Resources for the task', default: 'cpus:1;mem:128' },
  { name: 'role', kind: 'string', help: 'Role the framework subscribes with', default: '*' },
  { name: 'kill_after', kind: 'duration', help: 'Kill the task this long after it is running' },
  { name: 'content_type', kind: 'string', help: "Encoding used with the master: 'protobuf' or 'json'", default: 'protobuf' },
  { name: 'framework_capabilities', kind: 'string', help: 'Extra framework capabilities: comma list or JSON array' },
  { name: 'framework_name', kind: 'string', help: 'Name of the framework', default: 'mesos-execute instance' },
  { name: 'checkpoint', kind: 'bool', help: 'Enable checkpointing for the framework', default: 'false' },
  { name: 'partition_aware', kind: 'bool', help: 'Subscribe with the PARTITION_AWARE capability', default: 'false' },
  { name: 'principal', kind: 'string', help: 'Principal of the framework' },
  { name: 'secret', kind: 'string', help: 'Secret for HTTP basic authentication (with --principal)' },
  { name: 'task', kind: 'string', help: 'A TaskInfo as JSON (or file:///path), instead of --command' },
];

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

/** Offers we can't use come back after this long (the task's own offer is never re-used). */
const LONG_REFUSE_SECONDS = 3600;

export interface ExecuteIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Stop waiting and clean up (e.g. on SIGINT). */
  abort?: AbortSignal;
}

class UsageError extends Error {}

function parseCapabilities(text: string | undefined, partitionAware: boolean): Msg[] {
  const names = new Set<string>(['MULTI_ROLE']);
  if (partitionAware) names.add('PARTITION_AWARE');
  if (text && text.trim()) {
    const trimmed = text.trim();
    let list: unknown[];
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      const parsed = JSON.parse(trimmed) as unknown;
      // Mesos's own form is {"capabilities": [{"type": ...}]}; a bare array is accepted too.
      list = Array.isArray(parsed) ? parsed : ((parsed as { capabilities?: unknown[] }).capabilities ?? []);
    } else {
      list = trimmed.split(',');
    }
    for (const item of list) {
      const name = typeof item === 'string' ? item.trim() : String((item as { type?: unknown }).type ?? '');
      if (name) names.add(name.toUpperCase());
    }
  }
  return [...names].map((type) => ({ type }));
}

function parseEnv(text: string | undefined): Msg | undefined {
  if (!text) return undefined;
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError("'--env' must be a JSON object");
  return { variables: Object.entries(parsed as Record<string, unknown>).map(([name, value]) => ({ name, value: String(value) })) };
}

/** Builds the task template (everything but agent_id); throws UsageError on bad flags. */
function taskTemplate(flags: Flags): { task: Msg; needed: Resources } {
  const taskJson = flags.str('task');
  const command = flags.str('command');
  if (taskJson && command) throw new UsageError("Either '--task' or '--command' can be set, not both");
  if (taskJson) {
    const given = JSON.parse(taskJson) as Msg;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new UsageError("'--task' must be a JSON object");
    // agent_id comes from the offer; name and task_id default to --name (required fields for the parser).
    const name = given.name ?? flags.str('name') ?? `mesos-execute-${Date.now()}`;
    const task = fromJson('mesos.v1.TaskInfo', { task_id: { value: name }, name, ...given, agent_id: { value: 'pending' } }) as Msg;
    delete task.agent_id;
    return { task, needed: Resources.fromProto(task.resources ?? []).unallocate() };
  }
  if (!command) throw new UsageError("One of '--command' or '--task' must be set");
  const name = flags.str('name') ?? `mesos-execute-${Date.now()}`;
  const shell = flags.bool('shell');
  const commandInfo: Msg = { value: command, shell };
  if (!shell) {
    const args = flags.str('arguments');
    commandInfo.arguments = args ? (JSON.parse(args) as unknown[]).map(String) : [command];
  }
  const environment = parseEnv(flags.str('env'));
  if (environment) commandInfo.environment = environment;
  const needed = Resources.parse(flags.str('resources')!);
  return { task: { name, task_id: { value: name }, command: commandInfo }, needed };
}

function describeUpdate(status: Msg): string[] {
  const lines = [`Received status update ${status.state} for task '${status.task_id?.value}'`];
  if (status.message) lines.push(`  message: '${status.message}'`);
  if (status.source) lines.push(`  source: ${status.source}`);
  if (status.reason) lines.push(`  reason: ${status.reason}`);
  if (status.healthy !== undefined) lines.push(`  healthy?: ${status.healthy}`);
  return lines;
}

export async function execute(argv: string[], io: ExecuteIo): Promise<number> {
  let flags: Flags;
  let template: { task: Msg; needed: Resources };
  try {
    flags = new Flags(parseFlags(EXECUTE_FLAGS, argv, io.env ?? process.env));
    if (flags.parsed.help) {
      io.out(flagsUsage('mesos-execute', EXECUTE_FLAGS));
      return 0;
    }
    const ct = flags.str('content_type')!.toLowerCase();
    if (ct !== 'json' && ct !== 'protobuf') throw new UsageError(`Invalid '--content_type' '${ct}': expected 'json' or 'protobuf'`);
    template = taskTemplate(flags);
  } catch (e) {
    if (e instanceof FlagsError || e instanceof UsageError || e instanceof SyntaxError || (e as Error).name === 'ProtocolError' || (e as Error).name === 'ResourcesError') {
      io.err(`${(e as Error).message}\n\n${flagsUsage('mesos-execute', EXECUTE_FLAGS)}`);
      return 1;
    }
    throw e;
  }

  const role = flags.str('role')!;
  const frameworkInfo: Msg = {
    user: userInfo().username,
    name: flags.str('framework_name')!,
    roles: [role],
    checkpoint: flags.bool('checkpoint'),
    capabilities: parseCapabilities(flags.str('framework_capabilities'), flags.bool('partition_aware')),
  };
  const principal = flags.str('principal');
  if (principal) frameworkInfo.principal = principal;
  const headers: Record<string, string> = {};
  const secret = flags.str('secret');
  if (principal && secret) headers.Authorization = `Basic ${Buffer.from(`${principal}:${secret}`).toString('base64')}`;

  const clock = io.clock ?? new SystemClock();
  const client = new SchedulerClient({
    master: flags.str('master')!,
    frameworkInfo,
    contentType: flags.str('content_type')!.toLowerCase() as ContentType,
    clock,
    headers,
  });
  // Set once we are done: the master closing the stream after TEARDOWN is expected then.
  let finishing = false;
  client.on('disconnected', (e?: Error) => {
    if (!finishing) io.err(`Disconnected from the master${e ? `: ${e.message}` : ''}; re-subscribing`);
  });
  // Interrupted: tear the framework down (which kills the task) before letting go.
  io.abort?.addEventListener(
    'abort',
    () => {
      finishing = true;
      io.err('Interrupted: tearing down the framework');
      client.teardown().catch(() => undefined).finally(() => client.close());
    },
    { once: true },
  );

  const { task, needed } = template;
  const taskName = task.task_id.value as string;
  let launched = false;
  let killTimer: TimerHandle | undefined;
  let result = 1;

  try {
    const subscribed = await client.subscribe();
    io.out(`Subscribed with ID ${subscribed.framework_id?.value}`);

    for await (const event of client) {
      if (event.type === 'OFFERS') {
        const unused: Msg[] = [];
        for (const offer of event.offers?.offers ?? []) {
          const allocationRole: string = offer.allocation_info?.role ?? role;
          const want = needed.allocate(allocationRole);
          if (!launched && Resources.fromProto(offer.resources ?? []).contains(want)) {
            launched = true;
            const info = { ...task, agent_id: offer.agent_id, resources: want.toProto() };
            await client.launch([offer.id], [info]);
            io.out(`Submitted task '${taskName}' to agent '${offer.agent_id?.value}'`);
          } else {
            unused.push(offer.id);
          }
        }
        if (unused.length > 0) await client.decline(unused, { refuse_seconds: launched ? LONG_REFUSE_SECONDS : 5 });
      } else if (event.type === 'UPDATE') {
        const status: Msg = event.update.status;
        for (const line of describeUpdate(status)) io.out(line);
        await client.acknowledge(status);
        if (status.task_id?.value !== taskName) continue;
        const killAfter = flags.num('kill_after');
        if (status.state === 'TASK_RUNNING' && killAfter !== undefined && killTimer === undefined) {
          killTimer = clock.setTimeout(() => {
            io.out(`Asked to kill task '${taskName}' on agent '${status.agent_id?.value}'`);
            client.kill(taskName, status.agent_id).catch((e: Error) => io.err(`Failed to kill the task: ${e.message}`));
          }, killAfter);
        }
        if (TERMINAL.has(status.state)) {
          result = status.state === 'TASK_FINISHED' ? 0 : 1;
          break;
        }
      } else if (event.type === 'ERROR') {
        io.err(`Received an ERROR event: ${event.error?.message}`);
        break;
      } else if (event.type === 'FAILURE' && event.failure?.executor_id === undefined) {
        io.err(`Agent '${event.failure?.agent_id?.value}' was lost`);
      }
    }
    finishing = true;
    await client.teardown().catch(() => undefined);
  } catch (e) {
    io.err(`mesos-execute: ${(e as Error).message}`);
    result = 1;
  } finally {
    clock.clearTimeout(killTimer);
    client.close();
  }
  return result;
}

export async function run(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await execute(argv, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      abort: abort.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
