// The agent's v1 operator API (section 4.2): POST /api/v1 with a mesos.v1.agent.Call, answered
// 200 with a mesos.v1.agent.Response in the Accept encoding. The read-only calls are here; the
// container calls (LAUNCH/WAIT/KILL/REMOVE_CONTAINER) are in ../nested/operator-calls.ts.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { sendText, type HttpRequest, type HttpServer } from '../../common/http/server.js';
import { decodeJson, decodeProto, encodeJson, encodeProto, ProtocolError, type Msg } from '../../protocol/codec.js';
import { contentType, isMediaError, NOT_ACCEPTABLE, requestEncoding, responseEncoding } from '../../protocol/media.js';
import type { Files } from '../files/index.js';
import type { Agent } from '../agent.js';
import { AGENT_VERSION } from '../agent.js';
import type { Containerizer } from '../containerizer/index.js';
import { createTask, type Executor, type Framework } from '../state.js';
import type { NestedContainers } from '../nested/containers.js';
import { containerCall, type ContainerCallResult } from '../nested/operator-calls.js';
import { agentMetrics, containersJson } from './endpoints.js';
import { BUILD_INFO } from './state-json.js';

const CALL = 'mesos.v1.agent.Call';
const RESPONSE = 'mesos.v1.agent.Response';

export interface OperatorApiDeps {
  agent: Agent;
  flags: Record<string, string>;
  containerizer: Containerizer;
  files: Files;
  /** Nested containers (LAUNCH/WAIT/KILL/REMOVE_CONTAINER); without it those calls answer 501. */
  nested?: NestedContainers;
}

function timeInfo(ms: number): Msg {
  return { nanoseconds: Math.round(ms * 1e6) };
}

export class AgentOperatorApi {
  constructor(private readonly deps: OperatorApiDeps) {}

  install(server: HttpServer): void {
    server.route('/api/v1', (req, res) => this.handle(req, res));
  }

  private async handle(req: HttpRequest, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      sendText(res, 405, `Expecting 'POST', received '${req.method}'`, { Allow: 'POST' });
      return;
    }
    const encoding = requestEncoding(req.header('content-type'));
    if (isMediaError(encoding)) {
      sendText(res, encoding.status, encoding.error);
      return;
    }
    const accept = responseEncoding(req.header('accept'));
    if (accept === null) {
      sendText(res, 406, NOT_ACCEPTABLE);
      return;
    }
    const body = await req.body();
    let call: Msg;
    try {
      call = encoding === 'json' ? decodeJson(CALL, body) : decodeProto(CALL, body);
    } catch (e) {
      const why = e instanceof ProtocolError || e instanceof SyntaxError ? e.message : String(e);
      sendText(res, 400, `Failed to parse body into Call protobuf: ${why}`);
      return;
    }
    if (!call.type || call.type === 'UNKNOWN') {
      sendText(res, 400, "Failed to validate agent::Call: Expecting 'type' to be present");
      return;
    }
    let response: Msg | ContainerCallResult;
    try {
      response = await this.answer(call);
    } catch (e) {
      sendText(res, 500, `Failed to answer ${call.type}: ${(e as Error).message}`);
      return;
    }
    if ('status' in response && typeof response.status === 'number') {
      if (response.message === undefined) {
        // LAUNCH/KILL/REMOVE_CONTAINER answer with a bare status.
        res.writeHead(response.status, { 'Content-Length': 0 });
        res.end();
      } else {
        sendText(res, response.status, String(response.message));
      }
      return;
    }
    const out = accept === 'json' ? Buffer.from(encodeJson(RESPONSE, response)) : encodeProto(RESPONSE, response);
    res.writeHead(200, { 'Content-Type': contentType(accept), 'Content-Length': out.length });
    res.end(out);
  }

  private async answer(call: Msg): Promise<Msg | ContainerCallResult> {
    const { agent, flags } = this.deps;
    switch (call.type) {
      case 'GET_HEALTH':
        return { type: 'GET_HEALTH', get_health: { healthy: true } };
      case 'GET_FLAGS':
        return { type: 'GET_FLAGS', get_flags: { flags: Object.entries(flags).map(([name, value]) => ({ name, value })) } };
      case 'GET_VERSION':
        return {
          type: 'GET_VERSION',
          get_version: { version_info: { version: AGENT_VERSION, ...BUILD_INFO } },
        };
      case 'GET_METRICS':
        return { type: 'GET_METRICS', get_metrics: { metrics: Object.entries(agentMetrics(agent)).map(([name, value]) => ({ name, value })) } };
      case 'GET_LOGGING_LEVEL':
        // glog verbosity; Meseta logs at a fixed verbosity of 0.
        return { type: 'GET_LOGGING_LEVEL', get_logging_level: { level: 0 } };
      case 'GET_STATE':
        return { type: 'GET_STATE', get_state: { get_tasks: this.tasks(), get_executors: this.executors(), get_frameworks: this.frameworks() } };
      case 'GET_FRAMEWORKS':
        return { type: 'GET_FRAMEWORKS', get_frameworks: this.frameworks() };
      case 'GET_EXECUTORS':
        return { type: 'GET_EXECUTORS', get_executors: this.executors() };
      case 'GET_TASKS':
        return { type: 'GET_TASKS', get_tasks: this.tasks() };
      case 'GET_OPERATIONS':
        return { type: 'GET_OPERATIONS', get_operations: { operations: [] } };
      case 'GET_RESOURCE_PROVIDERS':
        return { type: 'GET_RESOURCE_PROVIDERS', get_resource_providers: { resource_providers: [] } };
      case 'GET_AGENT': {
        const getAgent: Msg = { agent_info: agent.info };
        const drain = agent.draining;
        if (drain) {
          getAgent.drain_config = drain.config;
          getAgent.estimated_drain_start_time = timeInfo(drain.since);
        }
        return { type: 'GET_AGENT', get_agent: getAgent };
      }
      case 'GET_CONTAINERS': {
        const containers: Msg[] = (await containersJson(agent, this.deps.containerizer, new URLSearchParams())).map((c) => ({
          framework_id: { value: c.framework_id },
          executor_id: { value: c.executor_id },
          executor_name: c.executor_name,
          container_id: { value: c.container_id },
          container_status: c.status,
          resource_statistics: c.statistics,
        }));
        if (call.get_containers?.show_nested === true && this.deps.nested) {
          for (const n of this.deps.nested.nested()) {
            const stats = await this.deps.containerizer.usage(n.key).catch(() => undefined);
            const c: Msg = {
              framework_id: { value: n.root.frameworkId },
              executor_id: { value: n.root.executorId },
              executor_name: n.root.executorName,
              container_id: n.containerId,
              container_status: { container_id: n.containerId },
            };
            const pid = this.deps.containerizer.pid(n.key);
            if (pid !== undefined) c.container_status.executor_pid = pid;
            if (stats) c.resource_statistics = stats;
            containers.push(c);
          }
        }
        return { type: 'GET_CONTAINERS', get_containers: { containers } };
      }
      case 'LIST_FILES':
        return this.listFiles(String(call.list_files?.path ?? ''));
      case 'READ_FILE': {
        if (!call.read_file) return { status: 400, message: "Failed to validate agent::Call: Expecting 'read_file' to be present" };
        const r = await this.deps.files.read(String(call.read_file.path), Number(call.read_file.offset ?? 0), call.read_file.length === undefined ? undefined : Number(call.read_file.length));
        if (!r.ok) return { status: r.status, message: r.message };
        return { type: 'READ_FILE', read_file: { size: r.value.size, data: r.value.data } };
      }
      case 'LAUNCH_CONTAINER':
      case 'WAIT_CONTAINER':
      case 'KILL_CONTAINER':
      case 'REMOVE_CONTAINER':
      case 'LAUNCH_NESTED_CONTAINER':
      case 'WAIT_NESTED_CONTAINER':
      case 'KILL_NESTED_CONTAINER':
      case 'REMOVE_NESTED_CONTAINER':
        if (!this.deps.nested) return { status: 501, message: `Call type '${call.type}' is not implemented by this agent` };
        return containerCall(this.deps.nested, call);
      default:
        return { status: 501, message: `Call type '${call.type}' is not implemented by this agent` };
    }
  }

  private async listFiles(virtualPath: string): Promise<Msg | { status: number; message: string }> {
    const resolved = await this.deps.files.resolve(virtualPath);
    if (resolved.kind === 'not-found') return { status: 404, message: 'Path not found' };
    if (resolved.kind === 'invalid') return { status: 400, message: resolved.message };
    let entries: string[] = [];
    try {
      entries = await fs.promises.readdir(resolved.path);
    } catch {
      // Not a directory: an empty listing.
    }
    entries.sort();
    const base = virtualPath.replace(/\/+$/, '');
    const infos: Msg[] = [];
    for (const e of entries) {
      try {
        const s = await fs.promises.stat(path.join(resolved.path, e));
        infos.push({ path: `${base}/${e}`, nlink: s.nlink, size: s.size, mtime: timeInfo(s.mtimeMs), mode: s.mode, uid: String(s.uid), gid: String(s.gid) });
      } catch {
        // vanished
      }
    }
    return { type: 'LIST_FILES', list_files: { file_infos: infos } };
  }

  private frameworks(): Msg {
    const { agent } = this.deps;
    return {
      frameworks: [...agent.frameworks].map((f) => ({ framework_info: f.info })),
      completed_frameworks: agent.completedFrameworks.map((f) => ({ framework_info: f.info })),
    };
  }

  private executors(): Msg {
    const { agent } = this.deps;
    const executors: Msg[] = [];
    const completed: Msg[] = [];
    const all: Framework[] = [...agent.frameworks, ...agent.completedFrameworks];
    for (const f of all) {
      for (const e of f.executors.values()) executors.push({ executor_info: e.info });
      for (const e of f.completedExecutors) completed.push({ executor_info: e.info });
    }
    return { executors, completed_executors: completed };
  }

  private tasks(): Msg {
    const { agent } = this.deps;
    const queued: Msg[] = [];
    const launched: Msg[] = [];
    const terminated: Msg[] = [];
    const completed: Msg[] = [];
    const visit = (f: Framework, e: Executor) => {
      for (const t of e.queuedTasks.values()) queued.push(createTask(t, f.info.id, agent.agentId ?? '', 'TASK_STAGING'));
      for (const t of e.launchedTasks.values()) launched.push(t);
      for (const t of e.terminatedTasks.values()) terminated.push(t);
      for (const t of e.completedTasks) completed.push(t);
    };
    for (const f of [...agent.frameworks, ...agent.completedFrameworks]) {
      for (const e of f.executors.values()) visit(f, e);
      for (const e of f.completedExecutors) visit(f, e);
    }
    return { pending_tasks: [], queued_tasks: queued, launched_tasks: launched, terminated_tasks: terminated, completed_tasks: completed };
  }
}
