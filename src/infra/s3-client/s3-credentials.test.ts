import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { resolveS3Credentials, S3CredentialsError } from './s3-credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'sEcReT0123456789sEcReT0123456789sEcReT01';
const file = join(dir, 'credentials');
writeFileSync(
  file,
  [
    '# comment',
    '[default]',
    'aws_access_key_id = HFDEFAULTKEY',
    `aws_secret_access_key=${SECRET}`,
    '',
    '[ pg-archiver ]',
    'AWS_ACCESS_KEY_ID = HFARCHIVERKEY',
    `aws_secret_access_key = ${SECRET}x`,
    'aws_session_token = TOKEN',
    '[incomplete]',
    'aws_access_key_id = ONLYID',
  ].join('\n'),
);

describe('S3 credentials from the environment', () => {
  test('the key variables, with a session token', () => {
    const c = resolveS3Credentials({ AWS_ACCESS_KEY_ID: 'HFENVKEY', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: 'T' });
    assert.equal(c.accessKeyId, 'HFENVKEY');
    assert.equal(c.secretAccessKey.reveal(), SECRET);
    assert.equal(c.sessionToken?.reveal(), 'T');
    assert.equal(c.source, 'environment');
  });

  test('the default profile of AWS_SHARED_CREDENTIALS_FILE', () => {
    const c = resolveS3Credentials({ AWS_SHARED_CREDENTIALS_FILE: file });
    assert.equal(c.accessKeyId, 'HFDEFAULTKEY');
    assert.equal(c.secretAccessKey.reveal(), SECRET);
    assert.equal(c.sessionToken, undefined);
    assert.equal(c.source, `profile default in ${file}`);
  });

  test('AWS_PROFILE names a profile, and wins over key variables (as in the AWS SDK for JavaScript)', () => {
    const c = resolveS3Credentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'pg-archiver', AWS_ACCESS_KEY_ID: 'STALE', AWS_SECRET_ACCESS_KEY: 'STALE' });
    assert.equal(c.accessKeyId, 'HFARCHIVERKEY');
    assert.equal(c.secretAccessKey.reveal(), `${SECRET}x`);
    assert.equal(c.sessionToken?.reveal(), 'TOKEN');
  });

  test('~/.aws/credentials under HOME when no file is named', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    assert.throws(() => resolveS3Credentials({ HOME: home }), (e: unknown) => e instanceof S3CredentialsError && e.message.includes(join(home, '.aws', 'credentials')) && e.message.includes('does not exist'));
  });

  test('half a key pair names the missing half', () => {
    assert.throws(() => resolveS3Credentials({ AWS_ACCESS_KEY_ID: 'X' }), /AWS_SECRET_ACCESS_KEY is not/);
    assert.throws(() => resolveS3Credentials({ AWS_SECRET_ACCESS_KEY: SECRET }), (e: unknown) => e instanceof S3CredentialsError && /AWS_ACCESS_KEY_ID is not/.test(e.message) && !e.message.includes(SECRET));
  });

  test('a profile without both keys, or an unknown profile, is refused with the file and profile named', () => {
    for (const profile of ['incomplete', 'nope']) {
      assert.throws(
        () => resolveS3Credentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: profile }),
        (e: unknown) => e instanceof S3CredentialsError && e.message.includes(`[${profile}]`) && e.message.includes(file),
      );
    }
  });

  test('the secret never prints', () => {
    const c = resolveS3Credentials({ AWS_ACCESS_KEY_ID: 'HFENVKEY', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: 'TOKENVALUE' });
    for (const text of [inspect(c, { depth: 5 }), JSON.stringify(c), String(c.secretAccessKey)]) {
      assert.ok(!text.includes(SECRET) && !text.includes('TOKENVALUE'), text);
    }
  });
});
