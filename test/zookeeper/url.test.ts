// --zk / --master URL parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatZkUrl, parseServers, parseZkUrl } from '../../src/zookeeper/index.js';

describe('parseZkUrl', () => {
  it('parses servers, path and digest credentials', () => {
    assert.deepEqual(parseZkUrl('zk://10.0.0.1:2181,10.0.0.2:2182/mesos'), {
      servers: [{ host: '10.0.0.1', port: 2181 }, { host: '10.0.0.2', port: 2182 }],
      serversText: '10.0.0.1:2181,10.0.0.2:2182',
      path: '/mesos',
      auth: undefined,
    });
    const withAuth = parseZkUrl('zk://alice:s3cret@zk1:2181/a/b/');
    assert.deepEqual(withAuth.auth, { scheme: 'digest', credentials: 'alice:s3cret' });
    assert.equal(withAuth.path, '/a/b');
    assert.equal(formatZkUrl(withAuth), 'zk://alice:***@zk1:2181/a/b');
    assert.equal(parseZkUrl('zk://zk1/').path, '/');
    assert.deepEqual(parseZkUrl('zk://zk1/m').servers, [{ host: 'zk1', port: 2181 }]);
    assert.deepEqual(parseServers('[::1]:2181'), [{ host: '::1', port: 2181 }]);
  });

  it('reads file:// values', () => {
    const files: Record<string, string> = { '/etc/mesos/zk': 'zk://h1:2181,h2:2181/mesos\n' };
    const read = (p: string) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p]!;
    };
    assert.equal(parseZkUrl('file:///etc/mesos/zk', read).path, '/mesos');
    assert.throws(() => parseZkUrl('file:///nope', read), /Failed to read '\/nope'/);
    assert.throws(() => parseZkUrl('file://relative', read), /absolute path/);
  });

  it('explains what is wrong with a bad URL', () => {
    assert.throws(() => parseZkUrl('http://h:2181/mesos'), /Expecting 'zk:\/\/'/);
    assert.throws(() => parseZkUrl('zk://h:2181'), /Expecting a path/);
    assert.throws(() => parseZkUrl('zk://h:99999/mesos'), /Invalid port/);
    assert.throws(() => parseZkUrl('zk:///mesos'), /No ZooKeeper servers/);
    assert.throws(() => parseZkUrl('zk://nopassword@h:2181/mesos'), /user:password/);
    assert.throws(() => parseZkUrl('zk://h:2181/a//b'), /Invalid ZooKeeper path/);
  });
});
