import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpServer } from '../../src/common/http/server.js';
import { Files, MAX_READ_LENGTH, modeString } from '../../src/agent/files/index.js';

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'meseta-files-')));
const sandbox = path.join(root, 'sandbox');
const outside = path.join(root, 'outside');
const files = new Files();
const server = new HttpServer({ host: '127.0.0.1', port: 0, delegate: 'slave(1)' });
let base = '';

async function get(p: string): Promise<{ status: number; text: string; headers: Headers; body: Buffer }> {
  const res = await fetch(base + p);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, text: body.toString('utf8'), headers: res.headers, body };
}
const q = (s: string) => encodeURIComponent(s);

before(async () => {
  fs.mkdirSync(path.join(sandbox, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(sandbox, 'stdout'), 'hello world\n');
  fs.writeFileSync(path.join(sandbox, 'stderr'), '');
  fs.writeFileSync(path.join(sandbox, 'page.html'), '<p>x</p>');
  fs.writeFileSync(path.join(sandbox, 'big'), Buffer.alloc(MAX_READ_LENGTH + 100, 'a'));
  fs.chmodSync(path.join(sandbox, 'stdout'), 0o640);
  fs.writeFileSync(path.join(outside, 'secret'), 'secret');
  fs.symlinkSync(outside, path.join(sandbox, 'escape'));
  fs.symlinkSync(path.join(sandbox, 'sub'), path.join(sandbox, 'inside-link'));
  fs.writeFileSync(path.join(root, 'agent.log'), 'log line\n');
  assert.equal(files.attach(sandbox, '/frameworks/f/executors/e/runs/latest/'), true);
  assert.equal(files.attach(path.join(root, 'agent.log'), '/slave/log'), true);
  assert.equal(files.attach(path.join(root, 'missing'), '/missing'), false);
  files.install(server);
  await server.listen();
  base = `http://127.0.0.1:${server.port}`;
});
after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const V = '/frameworks/f/executors/e/runs/latest';

describe('/files', () => {
  it('browse lists a directory with Mesos fields, sorted by name', async () => {
    const r = await get(`/files/browse?path=${q(V)}`);
    assert.equal(r.status, 200);
    const listing = JSON.parse(r.text) as Array<Record<string, unknown>>;
    assert.deepEqual(
      listing.map((e) => e.path),
      ['big', 'escape', 'inside-link', 'page.html', 'stderr', 'stdout', 'sub'].map((n) => `${V}/${n}`),
    );
    const stdout = listing.find((e) => e.path === `${V}/stdout`)!;
    const st = fs.statSync(path.join(sandbox, 'stdout'));
    assert.deepEqual(Object.keys(stdout).sort(), ['gid', 'mode', 'mtime', 'nlink', 'path', 'size', 'uid']);
    assert.equal(stdout.mode, '-rw-r-----');
    assert.equal(stdout.size, 12);
    assert.equal(stdout.nlink, 1);
    assert.equal(stdout.mtime, Math.floor(st.mtimeMs / 1000));
    assert.equal(stdout.uid, os.userInfo().username);
    assert.equal(typeof stdout.gid, 'string');
    assert.equal(String(listing.find((e) => e.path === `${V}/sub`)!.mode)[0], 'd');
    // A trailing slash and the delegate prefix reach the same listing; JSONP wraps it.
    assert.deepEqual(JSON.parse((await get(`/files/browse?path=${q(V + '/')}`)).text), listing);
    assert.equal((await get(`/slave(1)/files/browse?path=${q(V)}`)).status, 200);
    const jsonp = await get(`/files/browse?path=${q(V + '/sub')}&jsonp=cb`);
    assert.equal(jsonp.text, 'cb([]);');
    assert.match(jsonp.headers.get('content-type')!, /javascript/);
  });

  it('browse errors: missing path 400, unknown 404, escapes 400 inaccessible', async () => {
    const missing = await get('/files/browse');
    assert.equal(missing.status, 400);
    assert.equal(missing.text, "Expecting 'path=value' in query.\n");
    assert.equal((await get('/files/browse?path=')).status, 400);
    assert.equal((await get(`/files/browse?path=${q('/not/attached')}`)).status, 404);
    assert.equal((await get(`/files/browse?path=${q(V + '/nope')}`)).status, 404);
    const dots = await get(`/files/browse?path=${q(V + '/../../')}`);
    assert.equal(dots.status, 400);
    assert.match(dots.text, /is inaccessible\.\n$/);
    const link = await get(`/files/browse?path=${q(V + '/escape')}`);
    assert.equal(link.status, 400);
    assert.match(link.text, /is inaccessible/);
    // A symlink that stays inside is fine.
    assert.equal((await get(`/files/browse?path=${q(V + '/inside-link')}`)).status, 200);
    // An attached file has nothing below it.
    assert.equal((await get(`/files/browse?path=${q('/slave/log/x')}`)).status, 404);
  });

  it('read: data at offset/length, size-only without offset, capped length', async () => {
    const p = q(`${V}/stdout`);
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}&offset=0`)).text), { data: 'hello world\n', offset: 0 });
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}&offset=6&length=5`)).text), { data: 'world', offset: 6 });
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}`)).text), { data: '', offset: 12 });
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}&offset=-1&length=-1`)).text), { data: '', offset: 12 });
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}&offset=100`)).text), { data: '', offset: 100 });
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${p}&offset=3&length=0`)).text), { data: '', offset: 3 });
    const big = JSON.parse((await get(`/files/read?path=${q(`${V}/big`)}&offset=0`)).text);
    assert.equal(big.data.length, MAX_READ_LENGTH);
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${q('/slave/log')}&offset=0`)).text), { data: 'log line\n', offset: 0 });
    assert.equal((await get(`/files/read?path=${p}&offset=0&jsonp=x.y`)).text, 'x.y({"data":"hello world\\n","offset":0});');
  });

  it('read errors: bad numbers, negatives, directories, escapes, unknown paths', async () => {
    const p = q(`${V}/stdout`);
    const bad = await get(`/files/read?path=${p}&offset=abc`);
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "Failed to parse offset: Failed to convert 'abc' to number.\n");
    assert.equal((await get(`/files/read?path=${p}&length=1.5`)).status, 400);
    const neg = await get(`/files/read?path=${p}&offset=-2`);
    assert.equal(neg.status, 400);
    assert.equal(neg.text, 'Negative offset provided: -2.\n');
    assert.equal((await get(`/files/read?path=${p}&length=-5`)).text, 'Negative length provided: -5.\n');
    const dir = await get(`/files/read?path=${q(V)}&offset=0`);
    assert.equal(dir.status, 400);
    assert.equal(dir.text, 'Cannot read a directory.\n');
    assert.equal((await get(`/files/read?path=${q(V + '/escape/secret')}&offset=0`)).status, 400);
    assert.equal((await get(`/files/read?path=${q(V + '/sub/../../outside/secret')}&offset=0`)).status, 400);
    assert.equal((await get(`/files/read?path=${q(V + '/none')}`)).status, 404);
    assert.equal((await get('/files/read')).status, 400);
  });

  it('download: raw bytes, Content-Type by extension, attachment disposition', async () => {
    const r = await get(`/files/download?path=${q(`${V}/stdout`)}`);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'hello world\n');
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename=stdout');
    const html = await get(`/files/download?path=${q(`${V}/page.html`)}`);
    assert.equal(html.headers.get('content-type'), 'text/html');
    assert.equal(html.text, '<p>x</p>');
    const big = await get(`/files/download?path=${q(`${V}/big`)}`);
    assert.equal(big.body.length, MAX_READ_LENGTH + 100);
    assert.equal((await get(`/files/download?path=${q(V)}`)).text, 'Cannot download a directory.\n');
    assert.equal((await get(`/files/download?path=${q(V + '/escape/secret')}`)).status, 400);
    assert.equal((await get(`/files/download?path=${q(V + '/nothing')}`)).status, 404);
    assert.equal((await get('/files/download')).status, 400);
    const empty = await get(`/files/download?path=${q(`${V}/stderr`)}`);
    assert.equal(empty.status, 200);
    assert.equal(empty.body.length, 0);
  });

  it('odd input never crashes or hangs: NUL bytes, FIFOs, file:// paths', async () => {
    const nul = await get(`/files/read?path=${q(V + '/std\0out')}&offset=0`);
    assert.ok(nul.status === 400 || nul.status === 404, `status ${nul.status}`);
    const fifo = path.join(sandbox, 'sub', 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await get(`/files/read?path=${q(V + '/sub/fifo')}&offset=0`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { data: '', offset: 0 });
    fs.rmSync(fifo);
    assert.deepEqual(JSON.parse((await get(`/files/read?path=${q('file://' + V + '/stdout')}&offset=6`)).text), { data: 'world\n', offset: 6 });
  });

  it('debug shows the map; detach removes a path', async () => {
    assert.deepEqual(JSON.parse((await get('/files/debug')).text), { [V]: sandbox, '/slave/log': path.join(root, 'agent.log') });
    files.detach('/slave/log');
    assert.equal((await get(`/files/read?path=${q('/slave/log')}`)).status, 404);
    assert.deepEqual(Object.keys(JSON.parse((await get('/files/debug')).text)), [V]);
  });

  it('modeString covers file types and permission bits', () => {
    assert.equal(modeString(0o040755), 'drwxr-xr-x');
    assert.equal(modeString(0o100644), '-rw-r--r--');
    assert.equal(modeString(0o120777), 'lrwxrwxrwx');
    assert.equal(modeString(0o010600), 'prw-------');
  });
});
