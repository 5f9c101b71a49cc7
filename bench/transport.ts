// `npm run bench -- transport [--messages N]`
//
// The libprocess transport between two daemons on 127.0.0.1 (both in this process, so the figures
// include the sender's and the receiver's work on the same cores):
//   transport.raw          N pre-encoded 200-byte bodies: messages/s, CPU µs per message
//   transport.status       N StatusUpdateMessages through the protobuf codec (encode + decode)
//   transport.fanout       N messages spread over 50 receiving daemons (50 outgoing connections)
// Prints one JSON line per scenario on stdout.
import { HttpServer } from '../src/common/http/server.js';
import { Libprocess, type Msg } from '../src/transport/libprocess.js';
import { numberArg as arg } from './support/args.js';

const N = arg('messages', 100_000);
const BATCH = 1000;
const r2 = (n: number) => Math.round(n * 100) / 100;

interface Daemon {
  server: HttpServer;
  lp: Libprocess;
}

async function daemon(): Promise<Daemon> {
  const server = new HttpServer({ host: '127.0.0.1', port: 0 });
  const lp = new Libprocess(server, { ip: '127.0.0.1', port: 0 });
  lp.setAddress('127.0.0.1', await server.listen());
  return { server, lp };
}

async function stop(...ds: Daemon[]): Promise<void> {
  for (const d of ds) {
    d.lp.close();
    await d.server.close();
  }
}

/** Sends N messages in batches (yielding between them, as a busy daemon would) and waits for all. */
async function run(label: string, send: (i: number) => void, arrived: () => number, extra: object = {}): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    for (let j = i; j < Math.min(N, i + BATCH); j++) send(j);
    await new Promise((r) => setImmediate(r));
  }
  while (arrived() < N) await new Promise((r) => setTimeout(r, 1));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      bench: label,
      messages: N,
      wall_ms: r2(ms),
      messages_per_s: Math.round((N / ms) * 1000),
      cpu_us_per_message: r2((cpu.user + cpu.system) / N),
      ...extra,
    }),
  );
}

async function main(): Promise<void> {
  {
    const [a, b] = [await daemon(), await daemon()];
    const from = a.lp.spawn('slave(1)');
    const to = b.lp.spawn('master');
    let n = 0;
    to.installRaw('mesos.internal.Bench', () => n++);
    const body = Buffer.alloc(200, 7);
    await run('transport.raw', () => from.sendRaw(to.upid, 'mesos.internal.Bench', body), () => n, { body_bytes: 200 });
    await stop(a, b);
  }
  {
    const [a, b] = [await daemon(), await daemon()];
    const from = a.lp.spawn('slave(1)');
    const to = b.lp.spawn('master');
    let n = 0;
    to.install('mesos.internal.StatusUpdateMessage', () => n++);
    const update: Msg = {
      update: {
        framework_id: { value: 'a5f8f3d2-6c7e-4f60-9d0c-1b0c5e0b7a11-0000' },
        executor_id: { value: 'task-1' },
        slave_id: { value: 'a5f8f3d2-6c7e-4f60-9d0c-1b0c5e0b7a11-S0' },
        status: {
          task_id: { value: 'task-1' },
          state: 'TASK_RUNNING',
          source: 'SOURCE_EXECUTOR',
          uuid: Buffer.alloc(16, 1),
        },
        timestamp: 1767225600.5,
        uuid: Buffer.alloc(16, 1),
      },
      pid: 'executor(1)@127.0.0.1:40000',
    };
    await run('transport.status', () => from.send(to.upid, 'mesos.internal.StatusUpdateMessage', update), () => n);
    await stop(a, b);
  }
  {
    const a = await daemon();
    const from = a.lp.spawn('master');
    const peers: Daemon[] = [];
    let n = 0;
    for (let i = 0; i < 50; i++) {
      const d = await daemon();
      d.lp.spawn('slave(1)').installRaw('mesos.internal.Bench', () => n++);
      peers.push(d);
    }
    const targets = peers.map((d) => d.lp.actor('slave(1)')!.upid);
    const body = Buffer.alloc(200, 7);
    await run('transport.fanout', (i) => from.sendRaw(targets[i % targets.length]!, 'mesos.internal.Bench', body), () => n, {
      receivers: targets.length,
    });
    await stop(a, ...peers);
  }
}

await main();
