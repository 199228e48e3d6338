import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { generateSelfSignedCertificate, type SelfSignedCertificate } from './self-signed-certificate.js';

/**
 * Real clients against a real HTTPS server that presents the generated certificate, trusting
 * nothing but that certificate file. The handshake checks validity against the real clock, so the
 * certificate is made "now"; nothing here depends on which day that is.
 */
const LIST_BUCKETS =
  '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
  '<Owner><ID>holdfast</ID><DisplayName>holdfast</DisplayName></Owner><Buckets></Buckets></ListAllMyBucketsResult>';

interface Fixture {
  readonly generated: SelfSignedCertificate;
  readonly certFile: string;
  readonly dir: string;
  readonly port: number;
}

async function serve(t: TestContext, names: { dnsNames?: string[]; ipAddresses?: string[] } = {}): Promise<Fixture> {
  const generated = generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: names.dnsNames ?? ['localhost'],
    ipAddresses: names.ipAddresses ?? ['127.0.0.1', '::1'],
    validDays: 7,
    now: new Date(),
  });
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-tls-'));
  const certFile = join(dir, 'holdfast.crt');
  await writeFile(certFile, generated.certPem);
  const server: Server = createServer({ cert: generated.certPem, key: generated.keyPem.reveal() }, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/xml' }).end(LIST_BUCKETS);
  });
  // '::' accepts IPv4 too (dual stack), so 127.0.0.1, ::1 and localhost all reach it.
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return { generated, certFile, dir, port: (server.address() as AddressInfo).port };
}

function nodeGet(url: string, ca: string | undefined): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, ...(ca === undefined ? {} : { ca }) }, (response) => {
      const fingerprint = (response.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, fingerprint }));
    });
    request.on('error', reject);
  });
}

function errorCode(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'accepted',
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

/** Runs a tool; resolves with its exit code and output (no shell, bounded). */
function runTool(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000, env: env ?? process.env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** An environment with no CA bundle, proxy or AWS settings from the caller's shell, and HOME in `home`. */
function isolatedEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|SSL_CERT_|CURL_CA_BUNDLE$|REQUESTS_CA_BUNDLE$|HTTPS?_PROXY$|ALL_PROXY$|NO_PROXY$)/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, HOME: home, ...extra };
}

async function toolMissing(t: TestContext, command: string, args: string[]): Promise<boolean> {
  if ((await runTool(command, args)).code === 0) return false;
  // Skips are allowed locally, never in CI: .ci/run installs these tools.
  if (process.env['CI'] === 'true') throw new Error(`${command} is not installed (CI may not skip; .ci/run installs it)`);
  t.skip(`${command} is not installed`);
  return true;
}

test('a Node https client that trusts only this certificate connects by IPv4, IPv6 and localhost', async (t) => {
  const { generated, port } = await serve(t);
  for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
    const answer = await nodeGet(`https://${host}:${port}/`, generated.certPem);
    assert.deepEqual(answer, { status: 200, fingerprint: generated.fingerprintSha256 }, host);
  }
});

test('without the certificate as CA, Node refuses it; with it, a name not in the SANs is refused', async (t) => {
  const { generated, port } = await serve(t, { dnsNames: ['localhost'], ipAddresses: [] });
  assert.equal(await errorCode(nodeGet(`https://localhost:${port}/`, undefined)), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.equal((await nodeGet(`https://localhost:${port}/`, generated.certPem)).status, 200);
  assert.equal(await errorCode(nodeGet(`https://127.0.0.1:${port}/`, generated.certPem)), 'ERR_TLS_CERT_ALTNAME_INVALID');
  const other = generateSelfSignedCertificate({ commonName: 'localhost', dnsNames: ['localhost'], validDays: 7, now: new Date() });
  assert.equal(await errorCode(nodeGet(`https://localhost:${port}/`, other.certPem)), 'DEPTH_ZERO_SELF_SIGNED_CERT');
});

test('curl --cacert accepts it at 127.0.0.1, [::1] and localhost, and refuses it without', async (t) => {
  if (await toolMissing(t, 'curl', ['--version'])) return;
  const { certFile, dir, port } = await serve(t);
  const env = isolatedEnv(dir);
  for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
    const { code, output } = await runTool('curl', ['--silent', '--show-error', '--fail', '--cacert', certFile, `https://${host}:${port}/`], env);
    assert.equal(code, 0, output);
    assert.match(output, /ListAllMyBucketsResult/);
  }
  const refused = await runTool('curl', ['--silent', '--show-error', `https://127.0.0.1:${port}/`], env);
  assert.equal(refused.code, 60, refused.output); // CURLE_PEER_FAILED_VERIFICATION
});

test('Python’s ssl (what aws-cli and boto3 use) accepts it, also with the strict X.509 checks of Python 3.13', async (t) => {
  if (await toolMissing(t, 'python3', ['-c', 'import ssl'])) return;
  const { certFile, dir, port } = await serve(t);
  const script = [
    'import ssl, sys, urllib.request',
    'ctx = ssl.create_default_context(cafile=sys.argv[1] or None)',
    'ctx.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN',
    'print(urllib.request.urlopen(sys.argv[2], context=ctx).status)',
  ].join('\n');
  const env = isolatedEnv(dir);
  for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
    const { code, output } = await runTool('python3', ['-c', script, certFile, `https://${host}:${port}/`], env);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), '200');
  }
  const refused = await runTool('python3', ['-c', script, '', `https://127.0.0.1:${port}/`], env);
  assert.match(refused.output, /CERTIFICATE_VERIFY_FAILED/);
});

test('aws-cli with --ca-bundle lists buckets over it, and refuses it without', async (t) => {
  if (await toolMissing(t, 'aws', ['--version'])) return;
  const { certFile, dir, port } = await serve(t);
  const env = isolatedEnv(dir, {
    AWS_ACCESS_KEY_ID: 'HOLDFASTTESTKEY',
    AWS_SECRET_ACCESS_KEY: 'not-a-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    // A refused handshake is final; the default retries only slow the test down.
    AWS_MAX_ATTEMPTS: '1',
  });
  const endpoint = ['--endpoint-url', `https://127.0.0.1:${port}`];
  const listed = await runTool('aws', ['s3api', 'list-buckets', ...endpoint, '--ca-bundle', certFile, '--output', 'json'], env);
  assert.equal(listed.code, 0, listed.output);
  assert.match(listed.output, /"Buckets"/);
  const refused = await runTool('aws', ['s3api', 'list-buckets', ...endpoint], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /SSL validation failed|CERTIFICATE_VERIFY_FAILED/);
});
