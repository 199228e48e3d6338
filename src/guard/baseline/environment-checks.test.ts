import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { loadSecretRules } from '../secrets/secret-rules.js';
import { checkEnvironmentVariable, describeEnvironmentIssue } from './environment-checks.js';
import { imagePinning, parseImageReference } from './image-reference.js';

const rules = loadSecretRules();
/** Built at run time: this repository holds no secret (test/acceptance/repository-secrets.test.ts). */
const token = () => 'gh' + 'p_' + randomBytes(27).toString('base64').replace(/[+/=]/g, 'A').slice(0, 36);
const strongPassword = () => randomBytes(18).toString('base64url') + '7Q';

describe('environment checks', () => {
  const cases: ReadonlyArray<readonly [string, string, string | undefined]> = [
    ['POSTGRES_PASSWORD', 'postgres', 'default-credential'],
    ['MYSQL_ROOT_PASSWORD', 'root', 'default-credential'],
    ['ADMIN_PASSWORD', 'changeme', 'default-credential'],
    ['NEO4J_AUTH', 'neo4j/neo4j', 'default-credential'],
    ['LOGIN', 'admin/admin', 'default-credential'],
    ['DATABASE_URL', 'postgres://app:password@db:5432/app', 'default-credential'],
    ['GH_TOKEN', token(), 'secret'],
    ['DB_PASSWORD', strongPassword(), 'secret'],
    ['API_KEY', 'hunter2', 'literal'],
    ['POSTGRES_PASSWORD', '${POSTGRES_PASSWORD}', undefined],
    ['POSTGRES_PASSWORD_FILE', '/run/secrets/db', undefined],
    ['TOKEN_TTL', '3600', undefined],
    ['REQUIRE_TOKEN', 'true', undefined],
    ['PATH', '/usr/local/bin:/usr/bin', undefined],
    ['PASSWORD', 'secret-from-$(VAULT)', 'literal'],
    ['PASSWORD', '$(DB_PASSWORD)', undefined],
    ['API_KEY', '<your-api-key>', undefined],
  ];
  for (const [name, value, kind] of cases) {
    test(`${name}=${value.slice(0, 6)}… is ${kind ?? 'fine'}`, () => {
      const issue = checkEnvironmentVariable({ name, value }, rules);
      assert.equal(issue?.kind, kind);
      if (issue !== undefined && value.length > 8) assert.ok(!describeEnvironmentIssue(issue).includes(value), 'the value is never shown');
    });
  }
});

describe('image references', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const cases: ReadonlyArray<readonly [string, string | undefined, string | undefined, string]> = [
    ['debian', 'debian', undefined, 'latest'],
    ['debian:latest', 'debian', 'latest', 'latest'],
    ['debian:12-slim', 'debian', '12-slim', 'tag'],
    ['localhost:5000/team/app', 'localhost:5000/team/app', undefined, 'latest'],
    ['localhost:5000/team/app:1.2', 'localhost:5000/team/app', '1.2', 'tag'],
    [`gcr.io/distroless/static:nonroot@${digest}`, 'gcr.io/distroless/static', 'nonroot', 'digest'],
    [`alpine@${digest}`, 'alpine', undefined, 'digest'],
  ];
  for (const [text, name, tag, pinning] of cases) {
    test(`${text.slice(0, 40)}: ${pinning}`, () => {
      const reference = parseImageReference(text)!;
      assert.equal(reference.name, name);
      assert.equal(reference.tag, tag);
      assert.equal(imagePinning(reference), pinning);
    });
  }
  test('a malformed digest is no reference', () => assert.equal(parseImageReference('alpine@sha256:xyz'), undefined));
});
