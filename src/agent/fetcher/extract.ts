// Unpacking archives into the sandbox with the system tools Mesos uses: tar (with gzip, bzip2
// or xz behind it), unzip and gunzip.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { archiveKind, FetchError } from './uri.js';

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new FetchError(`'${cmd}' is not installed`));
      reject(new FetchError(String(stderr).trim() || err.message));
    });
  });
}

/** gunzip -c file > out, without a shell; resolves once gunzip succeeded and `out` is flushed. */
async function gunzipTo(file: string, out: string): Promise<void> {
  const child = spawn('gunzip', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) =>
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new FetchError(`'gunzip' is not installed`) : e),
    );
    child.once('close', resolve);
  });
  const [code] = await Promise.all([exited, pipeline(child.stdout, fs.createWriteStream(out))]);
  if (code !== 0) throw new FetchError(stderr.trim() || `gunzip exited with status ${code}`);
}

/** True when `file` was an archive and has been extracted into `dir`. */
export async function extract(file: string, dir: string): Promise<boolean> {
  const kind = archiveKind(path.basename(file));
  if (!kind) return false;
  try {
    if (kind === 'tar') await run('tar', ['-C', dir, '-xf', file]);
    else if (kind === 'zip') await run('unzip', ['-o', '-q', '-d', dir, file]);
    else await gunzipTo(file, path.join(dir, path.basename(file).replace(/\.gz$/i, '')));
  } catch (e) {
    throw new FetchError(`Failed to extract archive '${file}' to '${dir}': ${(e as Error).message}`);
  }
  return true;
}
