import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readAll } from '../../../infra/streams/read-all.js';
import { mongodumpArguments, mongoPasswordFile, startMongodump } from './mongodump-source.js';
import { SourceError } from './source-process.js';

/**
 * MongoDB is not installed on the build machine: these tests prove what can be proved without
 * it — the command line, the password kept off it, and the clear error when the tool is missing.
 */
const dir = mkdtempSync(join(tmpdir(), 'holdfast-mongodump-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = { kind: 'mongodump', uri: 'mongodb://backup@127.0.0.1:27017/?authSource=admin', passwordEnv: 'MONGO_PW', database: 'shop' } as const;

test('mongodump writes one archive to stdout for the URI and database; the password only through --config', () => {
  assert.deepEqual(mongodumpArguments(source, '/run/x/credentials.yaml'), ['--archive', '--uri=mongodb://backup@127.0.0.1:27017/?authSource=admin', '--db=shop', '--config=/run/x/credentials.yaml']);
  assert.deepEqual(mongodumpArguments({ ...source, passwordEnv: undefined, database: undefined }, undefined), ['--archive', '--uri=mongodb://backup@127.0.0.1:27017/?authSource=admin']);
  const file = mongoPasswordFile('pa"ss\\word')!;
  assert.equal(statSync(file.file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file.file, 'utf8'), 'password: "pa\\"ss\\\\word"\n');
  file.remove();
  assert.equal(existsSync(file.file), false);
});

test('a missing mongodump fails the run naming the tool and where to get the MongoDB Database Tools', async () => {
  const dump = startMongodump(source, { PATH: join(dir, 'empty'), MONGO_PW: 'secret' });
  await assert.rejects(dump.finished, (e: unknown) => e instanceof SourceError && /^mongodump is not installed or not on PATH \(install the MongoDB Database Tools .*mongodb-database-tools/.test(e.message));
});

test('the password file exists while the tool runs and is gone after it exits (a stand-in mongodump shows what it was given)', async () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // Prints its arguments and the config file it was pointed at, as the archive.
  writeFileSync(join(bin, 'mongodump'), '#!/bin/sh\nprintf "%s\\n" "$@"\nfor a in "$@"; do case "$a" in --config=*) /bin/cat "${a#--config=}";; esac; done\n');
  chmodSync(join(bin, 'mongodump'), 0o755);
  const dump = startMongodump(source, { PATH: bin, MONGO_PW: 'the secret' });
  const output = (await readAll(dump.output)).toString('utf8');
  await dump.finished;
  const lines = output.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['--archive', '--uri=mongodb://backup@127.0.0.1:27017/?authSource=admin', '--db=shop']);
  assert.match(lines[3]!, /^--config=.*credentials\.yaml$/);
  assert.equal(lines[4], 'password: "the secret"');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(existsSync(lines[3]!.slice('--config='.length)), false, 'removed after the tool exited');
});
