import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayeredFilesystem, type LayerEntry } from './layered-filesystem.js';

const file = (path: string, content = ''): LayerEntry => ({ path, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, linkpath: '', content: Buffer.from(content) });
const dir = (path: string): LayerEntry => ({ path, kind: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, linkpath: '' });
const link = (path: string, target: string): LayerEntry => ({ path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkpath: target });
const paths = (fs: LayeredFilesystem) => [...fs.walk()].map(([path]) => path);

test('whiteouts delete from lower layers only, whatever the order of the tar', () => {
  const fs = new LayeredFilesystem();
  fs.applyLayer([dir('./etc/'), file('./etc/a'), file('etc/b'), dir('opt'), file('opt/x/y'), file('keep')], 0);
  // The opaque marker comes after this layer's own entry, which must survive.
  fs.applyLayer([file('opt/new'), file('opt/.wh..wh..opq'), file('etc/.wh.a'), file('.wh.keep'), file('keep2')], 1);
  assert.deepEqual(paths(fs), ['etc', 'etc/b', 'keep2', 'opt', 'opt/new']);
  // A whited-out path can come back in a later layer.
  fs.applyLayer([file('etc/a', 'again')], 2);
  assert.equal(fs.get('/etc/a')?.content?.toString(), 'again');
  assert.equal(fs.get('etc/a')?.layer, 2);
});

test('a whited-out directory takes its contents with it; paths that climb out are ignored', () => {
  const fs = new LayeredFilesystem();
  fs.applyLayer([file('a/b/c'), file('../escape'), file('a/../../x')], 0);
  fs.applyLayer([file('a/.wh.b')], 1);
  assert.deepEqual(paths(fs), ['a']);
  assert.equal(fs.unsafePaths, 2);
});

test('symbolic links are followed for lookups (usrmerge: /bin → usr/bin), not for getOwn', () => {
  const fs = new LayeredFilesystem();
  fs.applyLayer([link('bin', 'usr/bin'), file('usr/bin/sh', '#!'), link('usr/bin/ash', '/usr/bin/sh'), link('loop', 'loop')], 0);
  assert.equal(fs.get('/bin/sh')?.kind, 'file');
  assert.equal(fs.get('/bin/ash')?.kind, 'file');
  assert.equal(fs.getOwn('/bin/ash')?.kind, 'symlink');
  assert.equal(fs.get('/loop'), undefined);
});
