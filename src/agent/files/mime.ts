// Content-Type by file extension for /files/download; anything unknown is application/octet-stream.
// The table follows the extension map libprocess ships (Python's mimetypes), trimmed to the
// kinds of files sandboxes hold.
const TYPES: Record<string, string> = {
  '.txt': 'text/plain', '.text': 'text/plain', '.c': 'text/plain', '.h': 'text/plain', '.cc': 'text/plain',
  '.bat': 'text/plain', '.ksh': 'text/plain', '.pl': 'text/plain', '.conf': 'text/plain',
  '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.csv': 'text/csv',
  '.xml': 'text/xml', '.xsl': 'application/xml', '.wsdl': 'application/xml', '.py': 'text/x-python',
  '.js': 'application/javascript', '.json': 'application/json', '.sh': 'application/x-sh',
  '.pdf': 'application/pdf', '.ps': 'application/postscript', '.eps': 'application/postscript',
  '.tar': 'application/x-tar', '.zip': 'application/zip', '.jar': 'application/java-archive',
  '.gif': 'image/gif', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.jpe': 'image/jpeg',
  '.svg': 'image/svg+xml', '.ico': 'image/vnd.microsoft.icon', '.bmp': 'image/x-ms-bmp', '.tif': 'image/tiff',
  '.tiff': 'image/tiff', '.mp3': 'audio/mpeg', '.wav': 'audio/x-wav', '.mp4': 'video/mp4', '.mpeg': 'video/mpeg',
  '.mov': 'video/quicktime', '.swf': 'application/x-shockwave-flash', '.bin': 'application/octet-stream',
  '.exe': 'application/octet-stream', '.so': 'application/octet-stream', '.o': 'application/octet-stream',
};

export function contentTypeFor(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return TYPES[base.slice(dot).toLowerCase()] ?? 'application/octet-stream';
}
