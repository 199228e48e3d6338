import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPgDatabase, pgJobConnection, pgQuery, requirePostgres } from '../../../../test/support/postgres.js';
import { pgDumpArguments } from './pg-dump-source.js';
import { PgArchiveRowCounter } from './pg-archive-row-counter.js';

/**
 * The row counter on real `pg_dump --format=custom --compress=0` output (the arguments a
 * pg-dump job uses) of a database built to trip it: values with newlines, tabs and backslashes
 * (COPY escapes them), rows that are empty lines (a one-column table of empty strings), NULLs,
 * an empty table, a partitioned table (data in the partition), names with spaces and quotes, a
 * large object between the table data, and a table big enough for many chunks. The counts must
 * equal `count(*)` of every table, whatever sizes the stream arrives in; a cut-off stream and a
 * stream that is no archive count nothing and say why, and pass every byte through unchanged.
 */
let database: { name: string; drop(): Promise<void> } | undefined;
let archive: Buffer;
/** Each table as the counter names it, and as SQL names it. */
const TABLES: Readonly<Record<string, string>> = {
  'odd "schema".notes': '"odd ""schema""".notes',
  'public.blanks': 'public.blanks',
  'public.empty': 'public.empty',
  'public.measures_2026': 'public.measures_2026',
  'public.big': 'public.big',
};

before(async () => {
  if (process.env['CI'] !== 'true') {
    try {
      await pgQuery('postgres', 'SELECT 1');
    } catch {
      return;
    }
  }
  database = await createPgDatabase('hf_rowcount');
  await pgQuery(database.name, `
    CREATE SCHEMA "odd ""schema""";
    CREATE TABLE "odd ""schema""".notes (id int, body text);
    INSERT INTO "odd ""schema""".notes VALUES (1, E'two\\nlines'), (2, E'tab\\there'), (3, E'back\\\\slash'), (4, NULL), (5, E'\\\\.');
    CREATE TABLE blanks (s text);
    INSERT INTO blanks SELECT '' FROM generate_series(1, 7);
    CREATE TABLE empty (x int);
    CREATE TABLE measures (id int, at date) PARTITION BY RANGE (at);
    CREATE TABLE measures_2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO measures SELECT g, '2026-01-01'::date + (g % 300) FROM generate_series(1, 1234) g;
    SELECT lo_from_bytea(0, decode(repeat('ab', 50000), 'hex'));
    CREATE TABLE big (id int, payload text);
    INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 5000) g;
  `);
  const dump = spawn('pg_dump', pgDumpArguments({ kind: 'pg-dump', connection: pgJobConnection(), passwordEnv: undefined, database: database.name }), { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  for await (const chunk of dump.stdout) chunks.push(chunk as Buffer);
  archive = Buffer.concat(chunks);
});
after(() => database?.drop());

async function count(bytes: Buffer, pieceSize: number): Promise<{ counter: PgArchiveRowCounter; passed: Buffer }> {
  const counter = new PgArchiveRowCounter();
  const out: Buffer[] = [];
  const pieces = function* () {
    for (let i = 0; i < bytes.length; i += pieceSize) yield bytes.subarray(i, i + pieceSize);
  };
  await pipeline(Readable.from(pieces()), counter, new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk), done()) }));
  return { counter, passed: Buffer.concat(out) };
}

test('rows per table equal count(*) of each table, whatever the chunk sizes', async (t) => {
  if (!(await requirePostgres(t))) return;
  const actual: Record<string, number> = {};
  for (const [table, sqlName] of Object.entries(TABLES)) {
    const [row] = await pgQuery<{ n: string }>(database!.name, `SELECT count(*)::text AS n FROM ONLY ${sqlName}`);
    actual[table] = Number(row!.n);
  }
  assert.deepEqual(Object.values(actual), [5, 7, 0, 1234, 5000], 'the source holds what the test inserted');
  for (const size of [1, 4093, archive.length]) {
    const { counter, passed } = await count(archive, size);
    assert.equal(counter.problem(), undefined, `pieces of ${size}`);
    assert.deepEqual(counter.counts(), actual, `pieces of ${size}`);
    assert.ok(passed.equals(archive), 'every byte passes through unchanged');
  }
});

test('a cut-off archive or one that is not an archive counts nothing and says why', async (t) => {
  if (!(await requirePostgres(t))) return;
  const cut = await count(archive.subarray(0, archive.length - 100), 4096);
  assert.equal(cut.counter.counts(), undefined);
  assert.equal(cut.counter.problem(), 'the archive ended before its last data block did');
  const sql = await count(Buffer.from('--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n'), 16);
  assert.equal(sql.counter.counts(), undefined);
  assert.equal(sql.counter.problem(), 'the stream is not a pg_dump custom-format archive (no PGDMP header)');
  assert.equal(sql.passed.toString('utf8'), '--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n');
});
