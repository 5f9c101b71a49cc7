// The fetcher against real files, real archives (tar/gzip/bzip2/xz/unzip) and a local HTTP server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { Fetcher, FetchError, archiveKind, destinationName, fetch, resolveSource } from '../../src/agent/fetcher/index.js';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('fetcher: URIs', () => {
  it('resolves local paths, file:// and http(s); relative paths need --frameworks_home', () => {
    assert.deepEqual(resolveSource('/opt/a.tgz'), { kind: 'local', path: '/opt/a.tgz' });
    assert.deepEqual(resolveSource('file:///opt/a%20b.tgz'), { kind: 'local', path: '/opt/a b.tgz' });
    assert.deepEqual(resolveSource('bin/tool', '/fw'), { kind: 'local', path: '/fw/bin/tool' });
    assert.deepEqual(resolveSource('HTTPS://h/x'), { kind: 'http', url: 'HTTPS://h/x' });
    assert.throws(() => resolveSource('bin/tool'), /A relative path was passed for the resource but the Mesos framework home was not specified/);
    assert.throws(() => resolveSource('ftp://h/x'), /Unsupported URI scheme 'ftp'/);
  });

  it('names the destination from output_file or the last path segment, and keeps it in the sandbox', () => {
    assert.equal(destinationName('http://h/dir/pkg.tar.gz?x=1'), 'pkg.tar.gz');
    assert.equal(destinationName('/a/b/c.zip', 'sub/renamed.zip'), 'sub/renamed.zip');
    assert.throws(() => destinationName('/a/b', '../escape'), /must be a path inside the sandbox/);
    assert.throws(() => destinationName('/a/b', '/etc/passwd'), /must be a path inside the sandbox/);
    assert.equal(archiveKind('x.TGZ'), 'tar');
    assert.equal(archiveKind('x.tar.xz'), 'tar');
    assert.equal(archiveKind('x.tbz2'), 'tar');
    assert.equal(archiveKind('x.zip'), 'zip');
    assert.equal(archiveKind('x.gz'), 'gz');
    assert.equal(archiveKind('x.txt'), undefined);
  });
});

describe('fetcher: local files and archives', () => {
  const src = tmp('meseta-fetch-src-');
  const clock = new ManualClock();
  const fetcher = new Fetcher({ clock, cacheDir: path.join(src, 'cache') });
  const content = path.join(src, 'content');
  before(() => {
    fs.mkdirSync(path.join(content, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(content, 'dir', 'hello.txt'), 'hello\n');
    fs.writeFileSync(path.join(content, 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o644 });
  });
  after(() => fs.rmSync(src, { recursive: true, force: true }));
  const sandbox = () => tmp('meseta-sandbox-');

  it('extracts a tar.gz into the sandbox (the archive stays), and extract=false leaves it packed', async () => {
    const archive = path.join(src, 'pkg.tar.gz');
    execFileSync('tar', ['-C', content, '-czf', archive, 'dir']);
    const box = sandbox();
    await fetcher.fetch({ containerId: 'c1', sandbox: box, uris: [{ value: archive }] });
    assert.equal(fs.readFileSync(path.join(box, 'dir', 'hello.txt'), 'utf8'), 'hello\n');
    assert.ok(fs.existsSync(path.join(box, 'pkg.tar.gz')));
    const box2 = sandbox();
    await fetcher.fetch({ containerId: 'c2', sandbox: box2, uris: [{ value: `file://${archive}`, extract: false }] });
    assert.deepEqual(fs.readdirSync(box2), ['pkg.tar.gz']);
  });

  for (const [ext, tool, flag] of [
    ['tgz', 'gzip', '-z'],
    ['tar.bz2', 'bzip2', '-j'],
    ['tar.xz', 'xz', '-J'],
    ['tar', 'tar', ''],
  ] as const) {
    it(`extracts .${ext}`, { skip: !has(tool) && `'${tool}' is not installed (Debian package ${tool === 'xz' ? 'xz-utils' : tool})` }, async () => {
      const archive = path.join(src, `pkg.${ext}`);
      execFileSync('tar', ['-C', content, `-c${flag.slice(1)}f`, archive, 'dir']);
      const box = sandbox();
      await fetcher.fetch({ containerId: 'c', sandbox: box, uris: [{ value: archive }] });
      assert.equal(fs.readFileSync(path.join(box, 'dir', 'hello.txt'), 'utf8'), 'hello\n');
    });
  }

  it('extracts .zip', { skip: !(has('zip') && has('unzip')) && "'zip'/'unzip' are not installed (Debian packages zip, unzip)" }, async () => {
    const archive = path.join(src, 'pkg.zip');
    execFileSync('sh', ['-c', `cd '${content}' && zip -qr '${archive}' dir`]);
    const box = sandbox();
    await fetcher.fetch({ containerId: 'c', sandbox: box, uris: [{ value: archive }] });
    assert.equal(fs.readFileSync(path.join(box, 'dir', 'hello.txt'), 'utf8'), 'hello\n');
  });

  it('decompresses a plain .gz next to it', async () => {
    const file = path.join(src, 'notes.txt.gz');
    fs.writeFileSync(file, execFileSync('gzip', ['-c', path.join(content, 'dir', 'hello.txt')]));
    const box = sandbox();
    await fetcher.fetch({ containerId: 'c', sandbox: box, uris: [{ value: file }] });
    assert.equal(fs.readFileSync(path.join(box, 'notes.txt'), 'utf8'), 'hello\n');
  });

  it('executable=true makes the file executable (and never extracts); output_file renames, into subdirectories too', async () => {
    const box = sandbox();
    await fetcher.fetch({
      containerId: 'c',
      sandbox: box,
      uris: [
        { value: path.join(content, 'run.sh'), executable: true, output_file: 'bin/tool' },
        { value: path.join(src, 'pkg.tar.gz'), executable: true },
      ],
    });
    assert.equal(fs.statSync(path.join(box, 'bin', 'tool')).mode & 0o777, 0o755);
    assert.equal(execFileSync(path.join(box, 'bin', 'tool')).toString(), 'ran\n');
    assert.ok(!fs.existsSync(path.join(box, 'dir')), 'an executable archive is not extracted');
  });

  it('a missing file fails the whole fetch with the container id and the URI in the message', async () => {
    const box = sandbox();
    await assert.rejects(
      fetcher.fetch({ containerId: 'c9', sandbox: box, uris: [{ value: '/nonexistent/file.bin' }] }),
      (e: Error) =>
        e instanceof FetchError &&
        e.message === "Failed to fetch all URIs for container 'c9': Failed to fetch '/nonexistent/file.bin': Failed to copy '/nonexistent/file.bin': the file does not exist",
    );
  });

  it('fetch() with options shares a fetcher per cache directory', async () => {
    const box = sandbox();
    await fetch([{ value: path.join(content, 'run.sh') }], box, { clock, cacheDir: path.join(src, 'cache2'), containerId: 'c' });
    assert.ok(fs.existsSync(path.join(box, 'run.sh')));
  });
});

describe('fetcher: http(s) and the cache', () => {
  const hits = new Map<string, number>();
  const stalls: http.ServerResponse[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === '/redirect') {
      res.writeHead(302, { location: '/files/a.bin' });
      return res.end();
    }
    if (url === '/stall') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(10));
      stalls.push(res);
      return;
    }
    const m = /^\/(?:files|slow)\/(\w)\.bin$/.exec(url);
    if (!m) {
      res.writeHead(404);
      return res.end('no');
    }
    if (url.startsWith('/slow')) await gate;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.alloc(1000, m[1]!));
  });
  let base = '';
  const dirs: string[] = [];
  const box = () => {
    const d = tmp('meseta-http-');
    dirs.push(d);
    return d;
  };
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of stalls) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('downloads over http and follows redirects', async () => {
    const fetcher = new Fetcher({ clock: new ManualClock(), cacheDir: path.join(box(), 'cache') });
    const b = box();
    await fetcher.fetch({ containerId: 'c', sandbox: b, uris: [{ value: `${base}/files/a.bin` }, { value: `${base}/redirect`, output_file: 'via-redirect.bin' }] });
    assert.deepEqual(fs.readFileSync(path.join(b, 'a.bin')), Buffer.alloc(1000, 'a'));
    assert.deepEqual(fs.readFileSync(path.join(b, 'via-redirect.bin')), Buffer.alloc(1000, 'a'));
  });

  it('an HTTP error fails the fetch with Mesos\'s message', async () => {
    const fetcher = new Fetcher({ clock: new ManualClock(), cacheDir: path.join(box(), 'cache') });
    const uri = `${base}/missing.bin`;
    await assert.rejects(
      fetcher.fetch({ containerId: 'c7', sandbox: box(), uris: [{ value: uri }] }),
      { message: `Failed to fetch all URIs for container 'c7': Failed to fetch '${uri}': Error downloading resource, received HTTP return code 404` },
    );
  });

  it('aborts a stalled download after --fetcher_stall_timeout (on the Clock)', async () => {
    const clock = new ManualClock();
    const fetcher = new Fetcher({ clock, cacheDir: path.join(box(), 'cache'), stallTimeoutMs: 60_000 });
    const b = box();
    const p = fetcher.fetch({ containerId: 'c', sandbox: b, uris: [{ value: `${base}/stall` }] });
    const part = path.join(b, 'stall.part');
    for (let i = 0; i < 500 && !(fs.existsSync(part) && fs.statSync(part).size === 10); i++) await new Promise((r) => setTimeout(r, 10));
    clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 20));
    clock.advance(1_000);
    await assert.rejects(p, /Download stalled: no data for 1mins/);
    assert.ok(!fs.existsSync(part), 'the partial file is removed');
  });

  it('concurrent cached fetches of one URI share a single download', async () => {
    const fetcher = new Fetcher({ clock: new ManualClock(), cacheDir: path.join(box(), 'cache'), cacheSize: 10_000 });
    gate = new Promise((r) => (release = r));
    const uri = { value: `${base}/slow/s.bin`, cache: true };
    const boxes = [box(), box(), box()];
    const all = Promise.all(boxes.map((b, i) => fetcher.fetch({ containerId: `c${i}`, sandbox: b, uris: [uri] })));
    await new Promise((r) => setTimeout(r, 50));
    release!();
    await all;
    assert.equal(hits.get('/slow/s.bin'), 1);
    for (const b of boxes) assert.deepEqual(fs.readFileSync(path.join(b, 's.bin')), Buffer.alloc(1000, 's'));
    assert.equal(fetcher.cache.size(), 1000);
  });

  it('evicts the least recently used entry when the cache is full', async () => {
    const fetcher = new Fetcher({ clock: new ManualClock(), cacheDir: path.join(box(), 'cache'), cacheSize: 3000 });
    const get = (l: string) => fetcher.fetch({ containerId: 'c', sandbox: box(), uris: [{ value: `${base}/files/${l}.bin`, cache: true }] });
    await get('b');
    await get('c');
    await get('d');
    await get('b'); // b is now the most recently used; c the least
    assert.equal(hits.get('/files/b.bin'), 1, 'the second b came from the cache');
    await get('e');
    const has = (l: string) => fetcher.cache.has(undefined, `${base}/files/${l}.bin`);
    assert.deepEqual(['b', 'c', 'd', 'e'].map(has), [true, false, true, true]);
    assert.ok(fetcher.cache.size() <= 3000);
    await get('c');
    assert.equal(hits.get('/files/c.bin'), 2, 'an evicted entry is downloaded again');
    assert.equal(fs.readdirSync(fetcher.cache.dir).length, 3, 'evicted files are deleted');
  });

  it('an entry bigger than the whole cache is fetched but not kept', async () => {
    const fetcher = new Fetcher({ clock: new ManualClock(), cacheDir: path.join(box(), 'cache'), cacheSize: 500 });
    const b = box();
    await fetcher.fetch({ containerId: 'c', sandbox: b, uris: [{ value: `${base}/files/f.bin`, cache: true }] });
    assert.equal(fs.statSync(path.join(b, 'f.bin')).size, 1000);
    assert.equal(fetcher.cache.has(undefined, `${base}/files/f.bin`), false);
    assert.deepEqual(fs.readdirSync(fetcher.cache.dir), []);
  });
});
