// Starts real ZooKeeper servers (Debian package `zookeeper`) on loopback for tests:
// one standalone server or a small ensemble, each with a temp data dir and free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

export { freePort };

const JAVA_DIR = '/usr/share/java';
// What ZooKeeperServerMain / QuorumPeerMain really load from the package (checked by listing /usr/share/java).
const JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-simple.jar'];

/** Why ZooKeeper tests cannot run here, or undefined when they can. */
export function zookeeperMissing(): string | undefined {
  for (const jar of JARS) {
    if (!fs.existsSync(path.join(JAVA_DIR, jar))) return `ZooKeeper tests skipped: ${JAVA_DIR}/${jar} missing (apt-get install zookeeper)`;
  }
  const pathDirs = (process.env.PATH ?? '').split(':');
  if (!pathDirs.some((d) => d && fs.existsSync(path.join(d, 'java')))) return 'ZooKeeper tests skipped: no java on PATH';
  return undefined;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});


/** Sends a four-letter word and returns the answer ('' when the server does not answer). */
export function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port });
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    s.setTimeout(1000, () => s.destroy());
    s.on('connect', () => s.write(word));
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', done);
  });
}

/** 'leader' | 'follower' | 'standalone' when serving, undefined otherwise. */
export async function serverMode(port: number): Promise<string | undefined> {
  const m = /Mode: (\w+)/.exec(await fourLetter(port, 'srvr'));
  return m?.[1];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ZkServerProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dir: string,
    private readonly configFile: string,
  ) {}

  get connectString(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  start(): void {
    const cp = JARS.map((j) => path.join(JAVA_DIR, j)).join(':');
    const logFd = fs.openSync(path.join(this.dir, 'server.log'), 'a');
    const main = this.id === 0 ? 'org.apache.zookeeper.server.ZooKeeperServerMain' : 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
    const proc = spawn('java', [
      '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dzookeeper.jmx.log4j.disable=true',
      '-cp', cp, main, this.configFile,
    ], { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    live.add(proc);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => {
      live.delete(proc);
      if (this.proc === proc) this.proc = undefined;
      resolve();
    }));
  }

  /** Waits until the server serves clients (in an ensemble: has joined a quorum). */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.proc) break;
      if (await serverMode(this.clientPort)) return;
      await sleep(100);
    }
    const logText = fs.existsSync(path.join(this.dir, 'server.log')) ? fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8') : '';
    throw new Error(`ZooKeeper server ${this.id} on port ${this.clientPort} did not become ready:\n${logText.slice(-2000)}`);
  }

  mode(): Promise<string | undefined> {
    return serverMode(this.clientPort);
  }

  /** SIGKILL, as a crash. */
  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ZkTestCluster {
  servers: ZkServerProcess[];
  /** `host:port,...` of every member. */
  connectString: string;
  stop(): Promise<void>;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-zk-'));
}

const COMMON = [
  'clientPortAddress=127.0.0.1',
  'admin.enableServer=false',
  '4lw.commands.whitelist=srvr,ruok,stat',
  'maxClientCnxns=0',
  // Test data need not survive a power cut; fsync per write would only slow the tests.
  'forceSync=no',
];

/**
 * One standalone server. tickTime is short so sessions can be short in tests:
 * the server allows session timeouts between 2 and 20 ticks unless told otherwise.
 */
export async function startZooKeeper(opts: { tickTimeMs?: number } = {}): Promise<ZkTestCluster> {
  const dir = tempDir();
  const port = await freePort();
  const tick = opts.tickTimeMs ?? 100;
  const cfg = path.join(dir, 'zoo.cfg');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(cfg, [
    `tickTime=${tick}`, `dataDir=${path.join(dir, 'data')}`, `clientPort=${port}`,
    `minSessionTimeout=${2 * tick}`, `maxSessionTimeout=60000`, ...COMMON,
  ].join('\n') + '\n');
  const server = new ZkServerProcess(0, port, dir, cfg);
  server.start();
  try {
    await server.ready();
  } catch (e) {
    await server.kill();
    throw e;
  }
  return {
    servers: [server],
    connectString: server.connectString,
    async stop() {
      await server.stop();
      if (!process.env.MESETA_KEEP_ZK) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An ensemble of `size` servers on loopback, all started and serving. */
export async function startEnsemble(size = 3, opts: { tickTimeMs?: number } = {}): Promise<ZkTestCluster> {
  const tick = opts.tickTimeMs ?? 100;
  const ports: Array<{ client: number; peer: number; election: number }> = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort(), election: await freePort() });
  const members = ports.map((p, i) => `server.${i + 1}=127.0.0.1:${p.peer}:${p.election}`);
  const servers: ZkServerProcess[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < size; i++) {
    const dir = tempDir();
    dirs.push(dir);
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'myid'), `${i + 1}\n`);
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, [
      `tickTime=${tick}`, 'initLimit=50', 'syncLimit=10', `dataDir=${data}`, `clientPort=${ports[i]!.client}`,
      `minSessionTimeout=${2 * tick}`, 'maxSessionTimeout=60000', 'cnxTimeout=1000', 'electionPortBindRetry=10',
      ...COMMON, ...members,
    ].join('\n') + '\n');
    servers.push(new ZkServerProcess(i + 1, ports[i]!.client, dir, cfg));
  }
  for (const s of servers) s.start();
  const cluster: ZkTestCluster = {
    servers,
    connectString: servers.map((s) => s.connectString).join(','),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      if (!process.env.MESETA_KEEP_ZK) for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
  try {
    for (const s of servers) await s.ready(30_000);
  } catch (e) {
    await Promise.all(servers.map((s) => s.kill()));
    throw e;
  }
  return cluster;
}
