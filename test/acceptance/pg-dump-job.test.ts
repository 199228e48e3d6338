import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { holdfast, rootKey } from '../support/admin-cli.js';
import { createBackupBucket } from '../support/job-fixtures.js';
import { Teardown } from '../support/teardown.js';
import { pgQuery, requirePostgres } from '../support/postgres.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';

/**
 * A `pg-dump` backup job against the real PostgreSQL at 127.0.0.1:5432 (a scratch database),
 * driven with the built server and CLI: `holdfast jobs run` streams `pg_dump --format=custom`
 * into the vault, `holdfast jobs restore` pipes it into `pg_restore` in a new database, and the
 * restored tables, view, function and sequence equal the source. Locally an unreachable server
 * skips; in CI it fails.
 */
const teardown = new Teardown();
after(() => teardown.run());
const query = pgQuery;

/** What must survive the round trip: every row of every table, in order, plus the schema objects. */
async function fingerprint(database: string) {
  const [customers] = await query<{ n: string; digest: string }>(database, "SELECT count(*)::text AS n, md5(string_agg(c::text, '|' ORDER BY id)) AS digest FROM customers c");
  const [orders] = await query<{ n: string; digest: string }>(database, "SELECT count(*)::text AS n, md5(string_agg(o::text, '|' ORDER BY id)) AS digest FROM orders o");
  const [view] = await query<{ n: string }>(database, 'SELECT count(*)::text AS n FROM rich_customers');
  const [fn] = await query<{ total: string }>(database, 'SELECT customer_total(7)::text AS total');
  const [seq] = await query<{ last: string }>(database, 'SELECT last_value::text AS last FROM orders_id_seq');
  return { customers, orders, view, fn, seq };
}

test('a pg-dump job runs in the server and restores with pg_restore into a new database, equal to the source', { timeout: 180_000 }, async (t) => {
  if (!(await requirePostgres(t))) return;
  const suffix = randomBytes(4).toString('hex');
  const source = `hf_pgdump_src_${suffix}`;
  const restored = `hf_pgdump_restored_${suffix}`;
  await query('postgres', `CREATE DATABASE ${source}`);
  teardown.add(() => query('postgres', `DROP DATABASE IF EXISTS ${source} WITH (FORCE)`));
  teardown.add(() => query('postgres', `DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`));
  await query(source, `
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2), doc jsonb, raw bytea, seen timestamptz);
    CREATE TABLE orders (id serial PRIMARY KEY, customer int NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL);
    CREATE INDEX ON orders (customer);
    INSERT INTO customers SELECT g, 'Kundin Ä ' || g || ' 🦀', g * 1.25, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g % 7)), decode(md5(g::text), 'hex'), '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) g;
    INSERT INTO orders (customer, total) SELECT (g % 5000) + 1, (g * 37) % 1000 FROM generate_series(1, 20000) g;
    CREATE VIEW rich_customers AS SELECT * FROM customers WHERE balance > 5000;
    CREATE FUNCTION customer_total(c int) RETURNS numeric LANGUAGE sql AS 'SELECT coalesce(sum(total), 0) FROM orders WHERE customer = c';
  `);

  const dir = await mkdtemp(join(tmpdir(), 'holdfast-pgdump-job-'));
  teardown.removeDir(dir);
  const root = randomCredentials();
  const configFile = join(dir, 'holdfast.json');
  const bucket = `pgdump-${suffix}`;
  await writeFile(
    configFile,
    JSON.stringify({
      jobs: [{ name: 'pg-nightly', source: { kind: 'pg-dump', connection: 'host=127.0.0.1 port=5432 user=postgres', database: source }, schedule: '0 2 * * *', destination: { bucket, prefix: 'pg' }, retention: { keepCount: 3 } }],
      scrubIntervalHours: 0,
    }),
  );
  const vault: RunningVault = await startVault({ dataDir: join(dir, 'data'), env: { HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey, HOLDFAST_CONFIG: configFile, HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  await createBackupBucket(vault, bucket);
  const jobs = (args: string[], code: number | 'any' = 0) => holdfast(vault, rootKey(vault), ['jobs', ...args], code);

  const listed = JSON.parse((await jobs(['list', '--json'])).stdout) as { jobs: Array<{ name: string; source: string; databases: string[] }> };
  assert.deepEqual(listed.jobs.map((j) => [j.name, j.source, j.databases]), [['pg-nightly', 'pg-dump', [source]]]);
  let started = performance.now();
  const { run } = JSON.parse((await jobs(['run', 'pg-nightly', '--json'])).stdout) as { run: { id: string; outcome: string; error: string | null; bytes: number; objects: number; manifestKey: string } };
  console.log(`holdfast jobs run pg-nightly: ${Math.round(performance.now() - started)} ms, ${run.bytes} bytes in ${run.objects} objects`);
  assert.equal(run.outcome, 'succeeded', run.error ?? '');
  assert.match(run.manifestKey, new RegExp(`^pg/runs/${run.id}/manifest\\.json$`));

  started = performance.now();
  const restore = JSON.parse((await jobs(['restore', 'pg-nightly', '--into', restored, '--db-user', 'postgres', '--json'])).stdout) as { run: string; bytes: number };
  console.log(`holdfast jobs restore pg-nightly: ${Math.round(performance.now() - started)} ms, ${restore.bytes} bytes of archive`);
  assert.equal(restore.run, run.id);
  assert.deepEqual(await fingerprint(restored), await fingerprint(source));

  // A database that already holds tables is refused, and stays as it was.
  const again = await jobs(['restore', 'pg-nightly', '--into', restored, '--db-user', 'postgres'], 'any');
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, new RegExp(`database ${restored} already holds \\d+ table`));
  assert.deepEqual(await fingerprint(restored), await fingerprint(source));
});
