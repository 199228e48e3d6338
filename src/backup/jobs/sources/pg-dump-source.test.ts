import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgConnection, pgDumpArguments, pgToolEnv } from './pg-dump-source.js';

test('pg_dump gets the custom format uncompressed and a conninfo with the database quoted; never a password', () => {
  const args = pgDumpArguments({ kind: 'pg-dump', connection: 'host=db user=backup', passwordEnv: 'PW', database: "o'neil db" });
  assert.deepEqual(args, ['--format=custom', '--compress=0', '--no-password', "--dbname=host=db user=backup dbname='o\\'neil db'"]);
  assert.equal(pgConnection(undefined, 'shop'), "dbname='shop'");
});

test('the tool environment: PATH, PG* of this process, the job password as PGPASSWORD — and no stray PGPASSWORD', () => {
  const env = pgToolEnv({ PATH: '/bin', PGHOST: 'db', PGPASSWORD: 'leaked', HOLDFAST_PW: 'secret', AWS_SECRET_ACCESS_KEY: 'no' }, 'HOLDFAST_PW');
  assert.deepEqual(env, { PATH: '/bin', LANG: 'C.UTF-8', PGHOST: 'db', PGPASSWORD: 'secret' });
  assert.equal(pgToolEnv({ PATH: '/bin', PGPASSWORD: 'leaked' }, undefined)['PGPASSWORD'], undefined);
});
