import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../infra/clock.js';
import { loadTlsFiles } from '../infra/tls/tls-files.js';
import { runCertCommand } from './cert-command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

const NOW_MS = Date.UTC(2031, 1, 3, 4, 5, 6);
const DAY_MS = 24 * 3600 * 1000;

async function workspace(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cert-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function cert(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const clock = new ManualClock(NOW_MS);
  const code = await runCertCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text), clock });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test('defaults: localhost, 127.0.0.1 and ::1 for 825 days; 0644 certificate, 0600 key, even under a strict umask', async (t) => {
  const out = join(await workspace(t), 'tls');
  const previousUmask = process.umask(0o077);
  let run;
  try {
    run = await cert(['--out', out]);
  } finally {
    process.umask(previousUmask);
  }
  assert.equal(run.code, EXIT_OK, run.stderr);
  const certFile = join(out, 'holdfast.crt');
  const keyFile = join(out, 'holdfast.key');
  assert.equal(await modeOf(certFile), 0o644);
  assert.equal(await modeOf(keyFile), 0o600);
  assert.equal(await modeOf(out), 0o700);
  assert.deepEqual((await readdir(out)).sort(), ['holdfast.crt', 'holdfast.key']);

  const x509 = new X509Certificate(await readFile(certFile));
  assert.equal(x509.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(x509.subject, 'CN=localhost');
  assert.equal(new Date(x509.validTo).getTime(), NOW_MS + 825 * DAY_MS);
  const loaded = await loadTlsFiles(certFile, keyFile, new ManualClock(NOW_MS));
  assert.deepEqual(loaded.warnings, []);

  assert.match(run.stdout, new RegExp(`SHA-256 fingerprint ${x509.fingerprint256}`));
  assert.ok(run.stdout.includes(`"tlsCertFile": "${certFile}", "tlsKeyFile": "${keyFile}"\n`), run.stdout);
  assert.ok(run.stdout.includes(`holdfast server --tls-cert ${certFile} --tls-key ${keyFile}\n`), run.stdout);
  assert.ok(run.stdout.includes(`--ca-bundle ${certFile}`));
  assert.doesNotMatch(run.stdout + run.stderr, /PRIVATE KEY/);
});

test('--json prints paths, fingerprint, validity, names and the config to use', async (t) => {
  const out = await workspace(t);
  const run = await cert(['--out', out, '--json', '--days', '30', '--name', 'vault.example.com', '--name', '10.0.0.5,[2001:db8::1]', '--name', '*.s3.example.com']);
  assert.equal(run.code, EXIT_OK, run.stderr);
  const result = JSON.parse(run.stdout) as Record<string, unknown>;
  const certFile = join(out, 'holdfast.crt');
  const x509 = new X509Certificate(await readFile(certFile));
  assert.deepEqual(result, {
    certFile,
    keyFile: join(out, 'holdfast.key'),
    fingerprintSha256: x509.fingerprint256,
    serialNumber: x509.serialNumber,
    notBefore: new Date(NOW_MS - 3600 * 1000).toISOString(),
    notAfter: new Date(NOW_MS + 30 * DAY_MS).toISOString(),
    names: ['vault.example.com', '*.s3.example.com', '10.0.0.5', '2001:db8::1'],
    config: { tlsCertFile: certFile, tlsKeyFile: join(out, 'holdfast.key') },
  });
  assert.equal(x509.subject, 'CN=vault.example.com');
  assert.equal(x509.checkHost('photos.s3.example.com'), '*.s3.example.com');
  assert.equal(x509.checkIP('2001:db8::1'), '2001:db8::1');
});

test('existing files are kept unless --force; --force replaces both and leaves no temporary files', async (t) => {
  const out = await workspace(t);
  assert.equal((await cert(['--out', out])).code, EXIT_OK);
  const before = await Promise.all(['holdfast.crt', 'holdfast.key'].map((name) => readFile(join(out, name), 'utf8')));

  const refused = await cert(['--out', out]);
  assert.equal(refused.code, EXIT_USAGE);
  assert.equal(
    refused.stderr,
    `holdfast cert: ${join(out, 'holdfast.key')} already exists. Pass --force to replace it (clients that trust the old certificate must then be given the new one).\n`,
  );
  const unchanged = await Promise.all(['holdfast.crt', 'holdfast.key'].map((name) => readFile(join(out, name), 'utf8')));
  assert.deepEqual(unchanged, before);

  const forced = await cert(['--out', out, '--force']);
  assert.equal(forced.code, EXIT_OK, forced.stderr);
  const after = await Promise.all(['holdfast.crt', 'holdfast.key'].map((name) => readFile(join(out, name), 'utf8')));
  assert.notEqual(after[0], before[0]);
  assert.notEqual(after[1], before[1]);
  assert.equal(await modeOf(join(out, 'holdfast.key')), 0o600);
  assert.deepEqual((await readdir(out)).sort(), ['holdfast.crt', 'holdfast.key']);
  await loadTlsFiles(join(out, 'holdfast.crt'), join(out, 'holdfast.key'), new ManualClock(NOW_MS));
});

test('a lone existing certificate is not overwritten either, and no key is written beside it', async (t) => {
  const out = await workspace(t);
  await writeFile(join(out, 'holdfast.crt'), 'operator’s own certificate');
  const run = await cert(['--out', out]);
  assert.equal(run.code, EXIT_USAGE);
  assert.match(run.stderr, /holdfast\.crt already exists/);
  assert.deepEqual(await readdir(out), ['holdfast.crt']);
});

test('usage errors exit 2, say what is wrong and write nothing', async (t) => {
  const out = await workspace(t);
  const cases: [string[], RegExp][] = [
    [[], /--out DIR is required/],
    [['--out', out, '--days', '0'], /--days takes a whole number from 1 to 3650, not "0"/],
    [['--out', out, '--days', '3651'], /--days takes a whole number/],
    [['--out', out, '--days', '1e3'], /--days takes a whole number/],
    [['--out', out, '--name', 'bad_name'], /--name "bad_name" is not a DNS name/],
    [['--out', out, '--name', ','], /--name needs a DNS name or an IP address/],
    [['--out', out, '--bogus'], /Unknown option '--bogus'/],
    [['--out', out, 'extra'], /positional/i],
  ];
  for (const [argv, message] of cases) {
    const run = await cert(argv);
    assert.equal(run.code, EXIT_USAGE, argv.join(' '));
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Usage:\n {2}holdfast cert --out DIR/);
  }
  assert.deepEqual(await readdir(out), []);
  const json = await cert(['--json', '--out', out, '--days', 'x']);
  assert.deepEqual(JSON.parse(json.stdout), { error: { message: '--days takes a whole number from 1 to 3650, not "x".', usage: true } });
});

test('a directory that cannot be made is a runtime failure (exit 1) naming the path', async (t) => {
  const dir = await workspace(t);
  await writeFile(join(dir, 'file'), '');
  const run = await cert(['--out', join(dir, 'file', 'tls')]);
  assert.equal(run.code, EXIT_FAILURE);
  assert.match(run.stderr, /^holdfast cert: .*ENOTDIR.*file/);
});

test('--help prints the usage and succeeds', async () => {
  const run = await cert(['--help']);
  assert.equal(run.code, EXIT_OK);
  assert.match(run.stdout, /holdfast cert --out DIR \[--name DNS-or-IP …\] \[--days N\] \[--force\] \[--json\]/);
});
