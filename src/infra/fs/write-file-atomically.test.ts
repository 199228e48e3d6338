import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { writeFileAtomically } from './write-file-atomically.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-atomic-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('atomic file writes', () => {
  test('the destination appears whole, mode 0600, and no temporary file is left', async () => {
    const destination = join(dir, 'RECOVERYXLOG');
    await writeFileAtomically(destination, (out) => pipeline(Readable.from([Buffer.from('abc'), Buffer.from('def')]), out));
    assert.equal(await readFile(destination, 'utf8'), 'abcdef');
    assert.equal((await stat(destination)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['RECOVERYXLOG']);
  });

  test('a failed check before the rename leaves the old destination untouched and removes the temporary file', async () => {
    const destination = join(dir, 'kept');
    await writeFile(destination, 'old');
    await assert.rejects(
      writeFileAtomically(destination, (out) => pipeline(Readable.from([Buffer.from('new')]), out), {
        beforeCommit: () => {
          throw new Error('checksum mismatch');
        },
      }),
      /checksum mismatch/,
    );
    assert.equal(await readFile(destination, 'utf8'), 'old');
    assert.deepEqual((await readdir(dir)).filter((name) => name.includes('kept')), ['kept']);
  });

  test('a source that fails midway leaves no destination and no temporary file', async () => {
    const destination = join(dir, 'never');
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    }
    await assert.rejects(writeFileAtomically(destination, (out) => pipeline(Readable.from(failing()), out)), /connection reset/);
    assert.deepEqual((await readdir(dir)).filter((name) => name.includes('never')), []);
  });
});
