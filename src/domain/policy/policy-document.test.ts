import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_POLICY_BYTES, type ParseOptions, PolicyError, parsePolicy } from './policy-document.js';

const IDENTITY: ParseOptions = { kind: 'identity' };
const BUCKET: ParseOptions = { kind: 'bucket' };

function rejects(input: string | object, options: ParseOptions, message: RegExp): void {
  assert.throws(
    () => parsePolicy(input, options),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError, `expected a PolicyError, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

const statement = (fields: object) => ({ Version: '2012-10-17', Statement: [fields] });
const allowGet = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

test('a valid identity policy is normalized, frozen, and keeps its text for round trips', () => {
  const text = `{
    "Version": "2012-10-17",
    "Id": "backups",
    "Statement": {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"], "Resource": "arn:aws:s3:::b/*"}
  }`;
  const document = parsePolicy(text, IDENTITY);
  assert.equal(document.text, text);
  assert.equal(document.version, '2012-10-17');
  assert.equal(document.id, 'backups');
  assert.equal(document.kind, 'identity');
  assert.equal(document.statements.length, 1);
  const [only] = document.statements;
  assert.equal(only?.sid, 'Read');
  assert.equal(only?.index, 0);
  assert.equal(only?.effect, 'Allow');
  assert.deepEqual(only?.action.patterns.map((p) => p.source), ['s3:GetObject', 's3:List*']);
  assert.equal(only?.action.negated, false);
  assert.equal(only?.principal, undefined);
  assert.ok(Object.isFrozen(document) && Object.isFrozen(document.statements) && Object.isFrozen(only) && Object.isFrozen(only?.action.patterns));
});

test('an object is accepted and its JSON kept; a missing Version means 2008-10-17', () => {
  const document = parsePolicy({ Statement: allowGet }, IDENTITY);
  assert.equal(document.version, '2008-10-17');
  assert.equal(document.text, JSON.stringify({ Statement: allowGet }));
});

test('a bucket policy names principals', () => {
  const document = parsePolicy(
    statement({ ...allowGet, Principal: { AWS: ['arn:holdfast:iam:::user/alice', 'arn:holdfast:iam:::service/ci'] } }),
    { kind: 'bucket', bucket: 'b' },
  );
  assert.deepEqual(document.statements[0]?.principal, { negated: false, anyone: false, arns: ['arn:holdfast:iam:::user/alice', 'arn:holdfast:iam:::service/ci'] });
  assert.equal(parsePolicy(statement({ ...allowGet, Principal: '*' }), BUCKET).statements[0]?.principal?.anyone, true);
  assert.equal(parsePolicy(statement({ ...allowGet, NotPrincipal: { AWS: '*' } }), BUCKET).statements[0]?.principal?.negated, true);
});

test('document-level errors say what is allowed', () => {
  rejects('{"Version": "2012-10-17", "Statement": [', IDENTITY, /^The policy is not valid JSON/);
  rejects('[]', IDENTITY, /must be a JSON object with "Version" and "Statement"/);
  rejects({ Version: '2012-10-18', Statement: [allowGet] }, IDENTITY, /"Version" must be "2012-10-17" \(or the older "2008-10-17"\), got "2012-10-18"/);
  rejects({ Version: '2012-10-17' }, IDENTITY, /must have a "Statement"/);
  rejects({ Version: '2012-10-17', Statement: [] }, IDENTITY, /must have a "Statement"/);
  rejects({ Version: '2012-10-17', Statement: [allowGet], Statements: [] }, IDENTITY, /unknown field "Statements"; allowed fields are Version, Id, Statement/);
  rejects({ Id: 7, Statement: [allowGet] }, IDENTITY, /"Id" must be a string/);
  const big = { Version: '2012-10-17', Statement: [{ ...allowGet, Resource: Array.from({ length: 1000 }, (_, i) => `arn:aws:s3:::b/prefix-${i}/*`) }] };
  rejects(big, IDENTITY, new RegExp(`larger than ${MAX_POLICY_BYTES} bytes`));
});

test('statement errors name the statement (index and Sid) and the field', () => {
  const cases: [object, ParseOptions, RegExp][] = [
    [{ ...allowGet, Effect: 'allow' }, IDENTITY, /^Statement\[0\]: field "Effect" must be "Allow" or "Deny", got "allow"\.$/],
    [{ ...allowGet, Sid: 'Read', Effect: undefined }, IDENTITY, /^Statement\[0\] \(Sid "Read"\): field "Effect" must be "Allow" or "Deny"/],
    [{ ...allowGet, Sid: 5 }, IDENTITY, /^Statement\[0\]: field "Sid" must be a string/],
    [{ ...allowGet, Actions: 's3:GetObject' }, IDENTITY, /^Statement\[0\]: unknown field "Actions"; allowed fields are Sid, Effect, Action, NotAction/],
    [{ ...allowGet, NotAction: 's3:PutObject' }, IDENTITY, /^Statement\[0\]: has both fields "Action" and "NotAction"; give exactly one\.$/],
    [{ Effect: 'Allow', Resource: '*' }, IDENTITY, /^Statement\[0\]: needs one of fields "Action" and "NotAction"/],
    [{ Effect: 'Allow', Action: '*' }, IDENTITY, /^Statement\[0\]: needs one of fields "Resource" and "NotResource"/],
    [{ ...allowGet, Action: [] }, IDENTITY, /field "Action" must be a string or a non-empty list of strings, got \[\]/],
    [{ ...allowGet, Action: ['s3:GetObject', 7] }, IDENTITY, /field "Action" must be a string or a non-empty list of strings/],
    [{ ...allowGet, Action: 'ec2:RunInstances' }, IDENTITY, /field "Action" value "ec2:RunInstances" is not an action; use "\*", "s3:<Action>" or "holdfast:<Action>"/],
    [{ ...allowGet, Action: 's3:' }, IDENTITY, /value "s3:" is not an action/],
    [{ ...allowGet, Action: 's3:Get Object' }, IDENTITY, /value "s3:Get Object" is not an action/],
    [{ ...allowGet, Resource: 'bucket/key' }, IDENTITY, /field "Resource" value "bucket\/key" is not a resource; use "\*", "arn:aws:s3:::bucket"/],
    [{ ...allowGet, Resource: 'arn:aws:s3:::' }, IDENTITY, /is not a resource/],
    [{ ...allowGet, NotResource: 'arn:aws:ec2:::x', Resource: undefined }, IDENTITY, /field "NotResource" value "arn:aws:ec2:::x" is not a resource/],
    [{ ...allowGet, Principal: '*' }, IDENTITY, /^Statement\[0\]: field "Principal" is not allowed in an identity policy/],
    [{ ...allowGet, NotPrincipal: '*' }, IDENTITY, /field "NotPrincipal" is not allowed in an identity policy/],
    [allowGet, BUCKET, /^Statement\[0\]: needs one of fields "Principal" and "NotPrincipal"/],
    [{ ...allowGet, Principal: 'alice' }, BUCKET, /field "Principal" must be "\*" or \{"AWS": "\*" \| ARN \| \[ARNs\]\}/],
    [{ ...allowGet, Principal: { Service: 'backup.amazonaws.com' } }, BUCKET, /field "Principal" has "Service" principals, which Holdfast does not have/],
    [{ ...allowGet, Principal: { AWS: [] } }, BUCKET, /field "Principal" lists no principals/],
    [{ ...allowGet, Principal: { AWS: '123456789012' } }, BUCKET, /value "123456789012" is not a principal; use "\*" or an identity ARN/],
    [{ ...allowGet, Principal: { AWS: 'arn:holdfast:iam:::user/*' } }, BUCKET, /no wildcards inside an ARN/],
    [{ ...allowGet, Action: 'holdfast:ListIdentities', Principal: '*' }, BUCKET, /is an admin action; a bucket policy governs S3 actions only/],
    [{ ...allowGet, Resource: 'arn:holdfast:identity/alice', Principal: '*' }, BUCKET, /is an admin resource/],
    [{ ...allowGet, Resource: 'arn:aws:s3:::b/${aws:username' }, IDENTITY, /^Statement\[0\] field "Resource": .* malformed policy variable/],
    [{ ...allowGet, Condition: { StringEqual: { 's3:prefix': 'a' } } }, IDENTITY, /^Statement\[0\]: Condition operator "StringEqual" is not one Holdfast knows/],
  ];
  for (const [fields, options, message] of cases) rejects(statement(fields), options, message);
});

test('the second statement is named by its index, and Sids must be unique', () => {
  rejects({ Version: '2012-10-17', Statement: [allowGet, { ...allowGet, Effect: 'Maybe' }] }, IDENTITY, /^Statement\[1\]: field "Effect"/);
  rejects({ Version: '2012-10-17', Statement: [allowGet, 'Deny everything'] }, IDENTITY, /^Statement\[1\] must be an object/);
  rejects({ Version: '2012-10-17', Statement: [{ ...allowGet, Sid: 'A' }, { ...allowGet, Sid: 'A' }] }, IDENTITY, /^Statement\[1\] \(Sid "A"\): field "Sid" repeats an earlier statement's/);
});

test('a bucket policy for a named bucket may only name that bucket and its objects', () => {
  const options: ParseOptions = { kind: 'bucket', bucket: 'backups' };
  for (const resource of ['arn:aws:s3:::backups', 'arn:aws:s3:::backups/*', 'arn:aws:s3:::backups/db/*', 'arn:aws:s3:::back*', 'arn:aws:s3:::*', '*']) {
    assert.doesNotThrow(() => parsePolicy(statement({ ...allowGet, Resource: resource, Principal: '*' }), options), resource);
  }
  rejects(
    statement({ ...allowGet, Resource: ['arn:aws:s3:::backups/*', 'arn:aws:s3:::other/*'], Principal: '*' }),
    options,
    /^Statement\[0\]: field "Resource" value "arn:aws:s3:::other\/\*" does not name bucket "backups" or its objects/,
  );
  rejects(statement({ ...allowGet, Resource: 'arn:aws:s3:::backups-old/*', Principal: '*' }), options, /does not name bucket "backups"/);
});

test('policy variables are parsed only in 2012-10-17 documents', () => {
  const resource = 'arn:aws:s3:::b/${aws:username}/*';
  assert.equal(parsePolicy(statement({ ...allowGet, Resource: resource }), IDENTITY).statements[0]?.resource.patterns[0]?.hasVariables, true);
  assert.equal(parsePolicy({ Statement: [{ ...allowGet, Resource: resource }] }, IDENTITY).statements[0]?.resource.patterns[0]?.hasVariables, false);
  // Malformed variables are only an error where variables exist.
  assert.doesNotThrow(() => parsePolicy({ Statement: [{ ...allowGet, Resource: 'arn:aws:s3:::b/${oops' }] }, IDENTITY));
});
