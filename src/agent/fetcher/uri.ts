// Where a CommandInfo.URI points and what it is called in the sandbox (AGT-05).
import path from 'node:path';

export type Source = { kind: 'local'; path: string } | { kind: 'http'; url: string };

export class FetchError extends Error {
  override readonly name = 'FetchError';
}

/** Resolves a URI value to a local path or an http(s) URL (relative paths use --frameworks_home). */
export function resolveSource(value: string, frameworksHome?: string): Source {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: value };
  if (scheme === 'file') {
    const p = decodeURIComponent(value.slice('file://'.length));
    if (!p.startsWith('/')) throw new FetchError(`Invalid file URI '${value}': the path must be absolute`);
    return { kind: 'local', path: p };
  }
  if (scheme !== undefined) throw new FetchError(`Unsupported URI scheme '${scheme}' (supported: local paths, file://, http://, https://)`);
  if (value.startsWith('/')) return { kind: 'local', path: value };
  if (!frameworksHome) {
    throw new FetchError(
      'A relative path was passed for the resource but the Mesos framework home was not specified. ' +
        'Please either provide this config option or avoid using a relative path',
    );
  }
  return { kind: 'local', path: path.join(frameworksHome, value) };
}

/** The file name a URI gets in the sandbox: output_file when given, else the last path segment. */
export function destinationName(value: string, outputFile?: string): string {
  if (outputFile !== undefined && outputFile !== '') {
    const norm = path.normalize(outputFile);
    if (path.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) {
      throw new FetchError(`Invalid output_file '${outputFile}': it must be a path inside the sandbox`);
    }
    return norm;
  }
  let p = value;
  if (/^https?:\/\//i.test(value)) {
    try {
      p = decodeURIComponent(new URL(value).pathname);
    } catch {
      throw new FetchError(`Invalid URI '${value}'`);
    }
  } else if (value.startsWith('file://')) {
    p = decodeURIComponent(value.slice('file://'.length));
  }
  const base = path.basename(p);
  if (!base || base === '/' || base === '.' || base === '..') throw new FetchError(`Cannot determine a file name for URI '${value}'`);
  return base;
}

/** Archive kinds by file name (Mesos's list), or undefined for a plain file. */
export type ArchiveKind = 'tar' | 'zip' | 'gz';

export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$/.test(n)) return 'tar';
  if (n.endsWith('.zip')) return 'zip';
  if (n.endsWith('.gz')) return 'gz';
  return undefined;
}
