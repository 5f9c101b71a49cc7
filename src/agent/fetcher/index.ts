// The fetcher (AGT-05). See docs/containers.md for how the containerizer calls it.
export { Fetcher, fetch, DEFAULT_CACHE_SIZE, type FetcherOptions, type FetchRequest } from './fetcher.js';
export { FetcherCache, type CacheHandle } from './cache.js';
export { download, copyLocal, type DownloadOptions } from './download.js';
export { extract } from './extract.js';
export { FetchError, resolveSource, destinationName, archiveKind, type ArchiveKind, type Source } from './uri.js';
