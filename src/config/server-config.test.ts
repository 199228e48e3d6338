import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULT_PORT, loadServerConfig } from './server-config.js';

const none = { flags: {}, env: {}, configFile: undefined };

test('defaults: loopback on the documented port, data in ./data', () => {
  const config = loadServerConfig(none);
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: DEFAULT_PORT });
  assert.equal(config.dataDir, join(process.cwd(), 'data'));
  assert.ok(Object.isFrozen(config));
});

test('precedence: flag over environment over file over default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
  const file = join(dir, 'holdfast.json');
  writeFileSync(file, JSON.stringify({ region: 'eu-west-1', listen: '127.0.0.1:1111', inlineObjectBytes: 10 }));
  const fromFile = loadServerConfig({ flags: {}, env: {}, configFile: file });
  assert.equal(fromFile.region, 'eu-west-1');
  assert.equal(fromFile.inlineObjectBytes, 10);
  const fromEnv = loadServerConfig({ flags: {}, env: { HOLDFAST_LISTEN: '127.0.0.1:2222' }, configFile: file });
  assert.equal(fromEnv.listen.port, 2222);
  const fromFlag = loadServerConfig({ flags: { listen: '[::1]:3333' }, env: { HOLDFAST_LISTEN: '127.0.0.1:2222' }, configFile: file });
  assert.deepEqual(fromFlag.listen, { host: '::1', port: 3333 });
});

test('invalid values name the key, the source and the fix', () => {
  assert.throws(
    () => loadServerConfig({ flags: { listen: 'localhost' }, env: {}, configFile: undefined }),
    (e: unknown) => e instanceof ConfigError && /listen/.test(e.message) && /--listen/.test(e.message) && /Fix:/.test(e.message),
  );
  assert.throws(
    () => loadServerConfig({ flags: {}, env: { HOLDFAST_INLINE_OBJECT_BYTES: 'lots' }, configFile: undefined }),
    (e: unknown) => e instanceof ConfigError && /inlineObjectBytes/.test(e.message) && /HOLDFAST_INLINE_OBJECT_BYTES/.test(e.message),
  );
});

test('an unknown key in the config file is an error, not silently ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
  const file = join(dir, 'holdfast.json');
  writeFileSync(file, JSON.stringify({ lisen: '127.0.0.1:1' }));
  assert.throws(() => loadServerConfig({ flags: {}, env: {}, configFile: file }), /Unknown setting "lisen"/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadServerConfig({ flags: {}, env: {}, configFile: file }), /not valid JSON/);
});

test('scrub settings: defaults, a fraction in (0, 1], a throttle of at least 64 KiB/s', () => {
  const defaults = loadServerConfig(none);
  assert.deepEqual([defaults.scrubIntervalHours, defaults.scrubFraction, defaults.scrubBytesPerSecond], [24, 1, 32 * 1024 * 1024]);
  const set = loadServerConfig({ flags: {}, env: { HOLDFAST_SCRUB_FRACTION: '0.25', HOLDFAST_SCRUB_INTERVAL_HOURS: '0', HOLDFAST_SCRUB_BYTES_PER_SECOND: '1048576' }, configFile: undefined });
  assert.deepEqual([set.scrubIntervalHours, set.scrubFraction, set.scrubBytesPerSecond], [0, 0.25, 1048576]);
  for (const bad of ['0', '1.5', '-0.1', 'half']) {
    assert.throws(
      () => loadServerConfig({ flags: {}, env: { HOLDFAST_SCRUB_FRACTION: bad }, configFile: undefined }),
      (e: unknown) => e instanceof ConfigError && /scrubFraction/.test(e.message) && /HOLDFAST_SCRUB_FRACTION/.test(e.message) && /Fix:/.test(e.message),
      bad,
    );
  }
  assert.throws(() => loadServerConfig({ flags: {}, env: { HOLDFAST_SCRUB_BYTES_PER_SECOND: '1000' }, configFile: undefined }), /scrubBytesPerSecond .* is below 65536/);
});

test('blob store on S3: unset keeps DATA/blobs; set needs bucket, endpoint and the named credential variables', () => {
  assert.equal(loadServerConfig(none).blobS3Endpoint, undefined);
  const keyId = 'HOLDFAST_BLOB_S3_ACCESS_KEY_ID';
  const secret = 'HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY';
  const env = { HOLDFAST_BLOB_S3_ENDPOINT: 'http://127.0.0.1:9000', HOLDFAST_BLOB_S3_BUCKET: 'vault-blobs', HOLDFAST_BLOB_S3_PREFIX: 'node-1', [keyId]: 'id', [secret]: 'value' };
  const config = loadServerConfig({ flags: {}, env, configFile: undefined });
  assert.equal(config.blobS3Bucket, 'vault-blobs');
  assert.equal(config.blobS3Prefix, 'node-1/', 'a prefix is a folder');
  assert.equal(config.blobS3Region, 'us-east-1');
  const refused = (overrides: Record<string, string | undefined>, pattern: RegExp) =>
    assert.throws(
      () => loadServerConfig({ flags: {}, env: { ...env, ...overrides }, configFile: undefined }),
      (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && /Fix:/.test(e.message),
    );
  refused({ HOLDFAST_BLOB_S3_BUCKET: undefined }, /blobS3Endpoint and blobS3Bucket go together/);
  refused({ HOLDFAST_BLOB_S3_BUCKET: 'Bad_Bucket' }, /blobS3Bucket .*HOLDFAST_BLOB_S3_BUCKET.* is not an S3 bucket name/);
  refused({ HOLDFAST_BLOB_S3_ENDPOINT: 'ftp://host' }, /blobS3Endpoint .* is not an http/);
  refused({ HOLDFAST_BLOB_S3_PREFIX: '/abs' }, /blobS3Prefix/);
  refused({ [secret]: undefined }, new RegExp(`environment variable ${secret} \\(named by blobS3SecretAccessKeyEnv\\) is empty`));
  refused({ HOLDFAST_BLOB_S3_ACCESS_KEY_ID_ENV: 'not a name' }, /blobS3AccessKeyIdEnv .* is not an environment variable name/);
  // Backend settings without a backend would be silently ignored.
  const noBackend = { HOLDFAST_BLOB_S3_ENDPOINT: undefined, HOLDFAST_BLOB_S3_BUCKET: undefined };
  refused({ ...noBackend, HOLDFAST_BLOB_S3_PREFIX: 'node-1/' }, /blobS3Prefix \(from HOLDFAST_BLOB_S3_PREFIX\) is set but blobS3Endpoint is not/);
  refused({ ...noBackend, HOLDFAST_BLOB_S3_PREFIX: undefined, HOLDFAST_BLOB_S3_REGION: 'eu-west-1' }, /blobS3Region .* is set but blobS3Endpoint is not/);
  refused({ ...noBackend, HOLDFAST_BLOB_S3_PREFIX: undefined, HOLDFAST_BLOB_S3_CA_FILE: '/etc/ssl/ca.pem' }, /blobS3CaFile .* is set but blobS3Endpoint is not/);
});

test('a blob backend secret pasted into blobS3Endpoint or blobS3SecretAccessKeyEnv never appears in the refusal', () => {
  // Built at run time: the repository's secret scan must not find a credential-shaped literal.
  const secretAccessKey = `wJalr${randomBytes(12).toString('hex')}/K7MDENG+${randomBytes(6).toString('base64url')}`;
  const lettersOnly = `wJalrXUtnFEMI${randomBytes(12).toString('hex')}`;
  const base = { HOLDFAST_BLOB_S3_ENDPOINT: 'http://127.0.0.1:9000', HOLDFAST_BLOB_S3_BUCKET: 'vault-blobs', HOLDFAST_BLOB_S3_ACCESS_KEY_ID: 'id', HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: 'value' };
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ HOLDFAST_BLOB_S3_ENDPOINT: `http://holdfast:${secretAccessKey}@127.0.0.1:9000` }, /blobS3Endpoint \(from .*\) is not an http/],
    [{ HOLDFAST_BLOB_S3_ENDPOINT: `http://holdfast:${secretAccessKey}@` }, /blobS3Endpoint \(from .*\) is not an http/],
    [{ HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY_ENV: secretAccessKey }, /blobS3SecretAccessKeyEnv \(from .*\) is not an environment variable name/],
    [{ HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY_ENV: lettersOnly }, /environment variable named by blobS3SecretAccessKeyEnv is empty/],
  ];
  for (const [overrides, pattern] of cases) {
    assert.throws(
      () => loadServerConfig({ flags: {}, env: { ...base, ...overrides }, configFile: undefined }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, pattern);
        assert.match(e.message, /Fix:/);
        assert.ok(!e.message.includes(secretAccessKey) && !e.message.includes(lettersOnly) && !e.message.includes(secretAccessKey.slice(5, 20)), e.message.replace(secretAccessKey, '***'));
        return true;
      },
    );
  }
});

test('clusterNode needs every shared piece: PostgreSQL metadata, S3 blobs, PostgreSQL config guard, a shared sealing key', () => {
  assert.equal(loadServerConfig(none).clusterNode, false);
  const full: Record<string, string> = {
    HOLDFAST_CLUSTER_NODE: 'true',
    HOLDFAST_METADATA_POSTGRES_URL: 'postgres://db/holdfast',
    HOLDFAST_BLOB_S3_ENDPOINT: 'http://127.0.0.1:9000',
    HOLDFAST_BLOB_S3_BUCKET: 'blobs',
    HOLDFAST_BLOB_S3_ACCESS_KEY_ID: 'backend-id',
    HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: randomBytes(12).toString('hex'),
    HOLDFAST_CONFIG_GUARD_POSTGRES_URL: 'postgres://db/holdfast',
    HOLDFAST_SECRET_BOX_KEY_FILE: '/run/secrets/holdfast-secret-box.key',
  };
  const config = loadServerConfig({ flags: {}, env: full, configFile: undefined });
  assert.equal(config.clusterNode, true);
  assert.equal(config.secretBoxKeyFile, '/run/secrets/holdfast-secret-box.key');
  for (const [variable, key] of [
    ['HOLDFAST_METADATA_POSTGRES_URL', 'metadataPostgresUrl'],
    ['HOLDFAST_BLOB_S3_ENDPOINT', 'blobS3Endpoint'],
    ['HOLDFAST_CONFIG_GUARD_POSTGRES_URL', 'configGuardPostgresUrl'],
    ['HOLDFAST_SECRET_BOX_KEY_FILE', 'secretBoxKeyFile'],
  ] as const) {
    const { [variable]: _, ...without } = full;
    if (variable === 'HOLDFAST_BLOB_S3_ENDPOINT') delete without['HOLDFAST_BLOB_S3_BUCKET'];
    assert.throws(
      () => loadServerConfig({ flags: {}, env: without, configFile: undefined }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`clusterNode is true but ${key} is not set`) && e.message.includes('Fix:'),
      key,
    );
  }
  assert.throws(() => loadServerConfig({ flags: {}, env: { HOLDFAST_CLUSTER_NODE: 'yes' }, configFile: undefined }), /clusterNode/);
  assert.throws(() => loadServerConfig({ flags: {}, env: { ...full, HOLDFAST_JOBS: '[{"name":"x"}]' }, configFile: undefined }), /jobs are not supported on cluster nodes yet/);
});
