import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConditionKey } from './condition-keys.js';
import { parseDateMs, parseDecimal } from './condition-values.js';
import { type ConditionInput, type ContextValue, compileConditions } from './conditions.js';
import { PolicyError } from './policy-error.js';

type Context = Record<string, string | string[] | undefined>;

/** Do all conditions of a `Condition` block hold for this context? (aws:username is alice.) */
function holds(block: object, context: Context, variables = true): boolean {
  const input: ConditionInput = {
    value: (key: ConditionKey): ContextValue => (key === 'aws:username' && !('aws:username' in context) ? 'alice' : context[key]),
    variable(key: string) {
      const value = this.value(key as ConditionKey);
      return typeof value === 'string' ? value : undefined;
    },
  };
  return compileConditions(block, 'Statement[0]', variables).every((c) => c.holds(input));
}

type Row = [operator: string, key: string, values: unknown, context: string | string[] | undefined, expected: boolean];

function run(rows: readonly Row[]): void {
  for (const [operator, key, values, value, expected] of rows) {
    const context: Context = value === undefined ? {} : { [key]: value };
    assert.equal(holds({ [operator]: { [key]: values } }, context), expected, `${operator} ${key}=${JSON.stringify(values)} vs ${JSON.stringify(value)}`);
  }
}

test('string operators, with missing keys: positive false, negated true, IfExists true', () => {
  run([
    ['StringEquals', 's3:prefix', 'home/', 'home/', true],
    ['StringEquals', 's3:prefix', 'home/', 'Home/', false],
    ['StringEquals', 's3:prefix', 'home/', undefined, false],
    ['StringEquals', 's3:prefix', ['a/', 'home/'], 'home/', true],
    ['StringEquals', 's3:prefix', 'home/*', 'home/x', false],
    ['StringNotEquals', 's3:prefix', 'home/', 'other/', true],
    ['StringNotEquals', 's3:prefix', 'home/', 'home/', false],
    ['StringNotEquals', 's3:prefix', ['a/', 'home/'], 'home/', false],
    ['StringNotEquals', 's3:prefix', 'home/', undefined, true],
    ['StringEqualsIgnoreCase', 's3:prefix', 'HOME/', 'home/', true],
    ['StringEqualsIgnoreCase', 's3:prefix', 'HOME/', 'homer', false],
    ['StringNotEqualsIgnoreCase', 's3:prefix', 'HOME/', 'home/', false],
    ['StringNotEqualsIgnoreCase', 's3:prefix', 'HOME/', undefined, true],
    ['StringLike', 's3:prefix', 'home/*', 'home/a/b', true],
    ['StringLike', 's3:prefix', 'home/*', 'homer', false],
    ['StringLike', 's3:prefix', 'h?me/', 'hame/', true],
    ['StringLike', 's3:prefix', 'home/*', undefined, false],
    ['StringNotLike', 's3:prefix', 'home/*', 'tmp/x', true],
    ['StringNotLike', 's3:prefix', 'home/*', 'home/x', false],
    ['StringNotLike', 's3:prefix', 'home/*', undefined, true],
    ['StringEqualsIfExists', 's3:prefix', 'home/', undefined, true],
    ['StringEqualsIfExists', 's3:prefix', 'home/', 'tmp/', false],
    ['StringEqualsIfExists', 's3:prefix', 'home/', 'home/', true],
    ['StringNotEqualsIfExists', 's3:prefix', 'home/', undefined, true],
    ['StringNotLikeIfExists', 's3:prefix', 'home/*', 'home/x', false],
  ]);
});

test('string values take policy variables (2012-10-17) and are literal without them (2008-10-17)', () => {
  assert.equal(holds({ StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, { 's3:prefix': 'home/alice/docs' }), true);
  assert.equal(holds({ StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, { 's3:prefix': 'home/bob/docs' }), false);
  assert.equal(holds({ StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': 'alice' }), true);
  assert.equal(holds({ StringEqualsIgnoreCase: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': 'ALICE' }), true);
  assert.equal(holds({ StringEquals: { 's3:prefix': "${aws:username, 'anonymous'}" } }, { 's3:prefix': 'anonymous', 'aws:username': undefined }), true, 'default value');
  assert.equal(holds({ StringEquals: { 's3:prefix': '${aws:userid}' } }, { 's3:prefix': '' }), false, 'a variable without a value matches nothing');
  assert.equal(holds({ StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': '${aws:username}' }, false), true);
});

test('numeric operators', () => {
  run([
    ['NumericEquals', 's3:max-keys', '10', '10', true],
    ['NumericEquals', 's3:max-keys', 10, '10.0', true],
    ['NumericEquals', 's3:max-keys', '10', '11', false],
    ['NumericNotEquals', 's3:max-keys', '10', '11', true],
    ['NumericNotEquals', 's3:max-keys', '10', '10', false],
    ['NumericNotEquals', 's3:max-keys', '10', undefined, true],
    ['NumericLessThan', 's3:max-keys', '100', '99', true],
    ['NumericLessThan', 's3:max-keys', '100', '100', false],
    ['NumericLessThanEquals', 's3:max-keys', '100', '100', true],
    ['NumericLessThanEquals', 's3:max-keys', '100', '101', false],
    ['NumericLessThanEquals', 's3:max-keys', '100', 'lots', false],
    ['NumericLessThanEquals', 's3:max-keys', '100', '', false],
    ['NumericLessThanEquals', 's3:max-keys', '100', undefined, false],
    ['NumericGreaterThan', 's3:object-lock-remaining-retention-days', '30', '31', true],
    ['NumericGreaterThan', 's3:object-lock-remaining-retention-days', '30', '30', false],
    ['NumericGreaterThanEquals', 's3:object-lock-remaining-retention-days', '30', '30', true],
    ['NumericGreaterThanEquals', 's3:object-lock-remaining-retention-days', '30', '29.5', false],
    ['NumericGreaterThanIfExists', 's3:object-lock-remaining-retention-days', '30', undefined, true],
    ['NumericLessThan', 's3:max-keys', ['5', '100'], '50', true],
  ]);
});

test('date operators: ISO 8601 and epoch seconds, zones honoured, never local time', () => {
  const t = '2033-03-01T00:00:00Z';
  run([
    ['DateEquals', 'aws:CurrentTime', t, '2033-03-01T00:00:00.000Z', true],
    ['DateEquals', 'aws:CurrentTime', '2033-03-01', t, true],
    ['DateEquals', 'aws:CurrentTime', '2033-03-01T02:00:00+02:00', t, true],
    ['DateEquals', 'aws:CurrentTime', '2033-03-01T00:00:00', t, true],
    ['DateNotEquals', 'aws:CurrentTime', t, '2033-03-01T00:00:01Z', true],
    ['DateNotEquals', 'aws:CurrentTime', t, undefined, true],
    ['DateLessThan', 'aws:CurrentTime', t, '2033-02-28T23:59:59Z', true],
    ['DateLessThan', 'aws:CurrentTime', t, t, false],
    ['DateLessThanEquals', 'aws:CurrentTime', t, t, true],
    ['DateGreaterThan', 'aws:CurrentTime', t, '2033-03-01T00:00:01Z', true],
    ['DateGreaterThan', 'aws:CurrentTime', t, t, false],
    ['DateGreaterThan', 'aws:CurrentTime', t, undefined, false],
    ['DateGreaterThan', 'aws:CurrentTime', t, 'not a date', false],
    ['DateGreaterThanEquals', 'aws:CurrentTime', t, t, true],
    ['DateLessThan', 'aws:EpochTime', t, String(Date.UTC(2033, 1, 1) / 1000), true],
    ['DateLessThan', 'aws:CurrentTime', String(Date.UTC(2033, 2, 1) / 1000), '2033-02-01T00:00:00Z', true],
    ['DateGreaterThanIfExists', 's3:object-lock-retain-until-date', t, undefined, true],
    ['DateGreaterThanIfExists', 's3:object-lock-retain-until-date', t, '2033-01-01T00:00:00Z', false],
  ]);
  assert.equal(parseDateMs('2033-02-30'), Number.NaN);
  assert.equal(parseDateMs('2033-13-01'), Number.NaN);
  assert.equal(parseDateMs('2033-03-01T00:00:00.5Z'), Date.UTC(2033, 2, 1) + 500);
  assert.equal(parseDecimal('1e3'), 1000);
  assert.equal(parseDecimal('0x10'), Number.NaN);
});

test('Bool compares true/false case-insensitively; a missing key is false, IfExists true', () => {
  run([
    ['Bool', 'aws:SecureTransport', 'false', 'false', true],
    ['Bool', 'aws:SecureTransport', false, 'false', true],
    ['Bool', 'aws:SecureTransport', 'true', 'TRUE', true],
    ['Bool', 'aws:SecureTransport', 'false', 'true', false],
    ['Bool', 'aws:SecureTransport', 'false', 'yes', false],
    ['Bool', 'aws:SecureTransport', 'false', undefined, false],
    ['BoolIfExists', 'aws:SecureTransport', 'false', undefined, true],
  ]);
});

test('IpAddress / NotIpAddress with IPv4, IPv6 and IPv4-mapped addresses', () => {
  const office = ['203.0.113.0/24', '2001:db8::/32'];
  run([
    ['IpAddress', 'aws:SourceIp', office, '203.0.113.9', true],
    ['IpAddress', 'aws:SourceIp', office, '::ffff:203.0.113.9', true],
    ['IpAddress', 'aws:SourceIp', office, '2001:db8:0:1::5', true],
    ['IpAddress', 'aws:SourceIp', office, '198.51.100.1', false],
    ['IpAddress', 'aws:SourceIp', office, 'not-an-ip', false],
    ['IpAddress', 'aws:SourceIp', office, undefined, false],
    ['NotIpAddress', 'aws:SourceIp', office, '198.51.100.1', true],
    ['NotIpAddress', 'aws:SourceIp', office, '::ffff:203.0.113.9', false],
    ['NotIpAddress', 'aws:SourceIp', office, '2001:db9::1', true],
    ['NotIpAddress', 'aws:SourceIp', office, undefined, true],
    ['IpAddressIfExists', 'aws:SourceIp', office, undefined, true],
  ]);
});

test('Null tests presence: "true" means absent, "false" present', () => {
  run([
    ['Null', 's3:prefix', 'true', undefined, true],
    ['Null', 's3:prefix', 'true', [], true],
    ['Null', 's3:prefix', 'true', 'x', false],
    ['Null', 's3:prefix', 'false', 'x', true],
    ['Null', 's3:prefix', 'false', '', true],
    ['Null', 's3:prefix', false, undefined, false],
  ]);
});

test('ARN operators compare the six components separately, with wildcards and variables', () => {
  const users = 'arn:holdfast:iam:::user/*';
  run([
    ['ArnLike', 'aws:PrincipalArn', users, 'arn:holdfast:iam:::user/alice', true],
    ['ArnEquals', 'aws:PrincipalArn', users, 'arn:holdfast:iam:::user/alice', true],
    ['ArnLike', 'aws:PrincipalArn', users, 'arn:holdfast:iam:::service/ci', false],
    ['ArnLike', 'aws:PrincipalArn', users, 'not-an-arn', false],
    ['ArnLike', 'aws:PrincipalArn', 'arn:h*:iam:::user/x', 'arn:h:x:iam:::user/x', false],
    ['ArnLike', 'aws:PrincipalArn', 'arn:holdfast:iam:::user/a:b', 'arn:holdfast:iam:::user/a:b', true],
    ['ArnLike', 'aws:PrincipalArn', 'arn:holdfast:iam:::user/${aws:username}', 'arn:holdfast:iam:::user/alice', true],
    ['ArnNotLike', 'aws:PrincipalArn', users, 'arn:holdfast:iam:::service/ci', true],
    ['ArnNotEquals', 'aws:PrincipalArn', users, 'arn:holdfast:iam:::user/alice', false],
    ['ArnNotLike', 'aws:PrincipalArn', users, undefined, true],
    ['ArnLike', 'aws:PrincipalArn', users, undefined, false],
  ]);
});

test('set operators: ForAnyValue (false when absent) and ForAllValues (true when absent)', () => {
  run([
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], ['c', 'a'], true],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], ['c'], false],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], 'b', true],
    ['ForAnyValue:StringEquals', 's3:prefix', ['a', 'b'], undefined, false],
    ['ForAnyValue:StringNotEquals', 's3:prefix', 'a', ['a', 'b'], true],
    ['ForAnyValue:StringNotEquals', 's3:prefix', 'a', ['a'], false],
    ['ForAnyValue:StringNotEquals', 's3:prefix', 'a', undefined, false],
    ['ForAnyValue:StringEqualsIfExists', 's3:prefix', 'a', undefined, true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], ['a', 'b'], true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], ['a', 'c'], false],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], undefined, true],
    ['ForAllValues:StringEquals', 's3:prefix', ['a', 'b'], [], true],
    // The AWS example "Deny policy with condition set operator ForAllValues".
    ['ForAllValues:StringNotLike', 's3:prefix', 'key1*', ['key2:audit'], true],
    ['ForAllValues:StringNotLike', 's3:prefix', 'key1*', ['key1:hr', 'key1:personnel'], false],
    ['ForAllValues:StringNotLike', 's3:prefix', 'key1*', ['key1:legal', 'key2:x'], false],
    ['ForAllValues:StringNotLike', 's3:prefix', 'key1*', undefined, true],
    // A multivalued key under a plain operator: any value matches, then negation.
    ['StringEquals', 's3:prefix', 'a', ['x', 'a'], true],
    ['StringNotEquals', 's3:prefix', 'a', ['x', 'a'], false],
  ]);
});

test('keys and operators are ANDed; key and operator names are case-insensitive', () => {
  const block = { StringEquals: { 's3:prefix': 'home/', 's3:delimiter': '/' }, NumericLessThanEquals: { 's3:max-keys': '100' } };
  assert.equal(holds(block, { 's3:prefix': 'home/', 's3:delimiter': '/', 's3:max-keys': '10' }), true);
  assert.equal(holds(block, { 's3:prefix': 'home/', 's3:delimiter': '/', 's3:max-keys': '1000' }), false);
  assert.equal(holds(block, { 's3:prefix': 'home/', 's3:max-keys': '10' }), false);
  assert.equal(holds({ stringequals: { 'AWS:SECURETRANSPORT': 'true' } }, { 'aws:SecureTransport': 'true' }), true);
  const [condition] = compileConditions({ 'forallvalues:stringlikeifexists': { 'S3:Prefix': 'a' } }, 'S', true);
  assert.equal(condition?.operator, 'ForAllValues:StringLikeIfExists');
  assert.equal(condition?.key, 's3:prefix');
});

test('malformed conditions are refused at parse time, naming the statement, operator and key', () => {
  const cases: [unknown, RegExp][] = [
    [['StringEquals'], /^Statement\[0\]: field "Condition" must be an object/],
    [{ StringEqual: { 's3:prefix': 'a' } }, /^Statement\[0\]: Condition operator "StringEqual" is not one Holdfast knows; operators are StringEquals, /],
    [{ 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } }, /"ForSomeValues:StringEquals" is not one Holdfast knows/],
    [{ NullIfExists: { 's3:prefix': 'true' } }, /Null takes neither the IfExists suffix nor/],
    [{ 'ForAnyValue:Null': { 's3:prefix': 'true' } }, /Null takes neither/],
    [{ StringEquals: 'a' }, /Condition operator "StringEquals" must map at least one condition key/],
    [{ StringEquals: {} }, /must map at least one condition key/],
    [{ StringEquals: { 'aws:SourceIP4': 'a' } }, /^Statement\[0\]: Condition "StringEquals" key "aws:SourceIP4" is not a condition key Holdfast evaluates; known keys: aws:CurrentTime/],
    [{ StringEquals: { 's3:prefix': [] } }, /key "s3:prefix" has an empty list of values/],
    [{ StringEquals: { 's3:prefix': { a: 1 } } }, /each value must be a string, number or boolean/],
    [{ StringEquals: { 's3:prefix': null } }, /each value must be a string, number or boolean/],
    [{ NumericLessThan: { 's3:max-keys': 'ten' } }, /Condition "NumericLessThan" key "s3:max-keys": "ten" is not a number/],
    [{ DateLessThan: { 'aws:CurrentTime': 'tomorrow' } }, /"tomorrow" is not an ISO 8601 date/],
    [{ IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }, /"10.0.0.0\/33" is not an IP address or CIDR block/],
    [{ Bool: { 'aws:SecureTransport': 'yes' } }, /"yes" must be true or false/],
    [{ Null: { 's3:prefix': 'maybe' } }, /"maybe" must be true or false/],
    [{ ArnLike: { 'aws:PrincipalArn': 'arn:holdfast:iam' } }, /is not an ARN \(arn:partition:service:region:account:resource\)/],
    [{ StringLike: { 's3:prefix': 'home/${aws:username' } }, /malformed policy variable/],
  ];
  for (const [block, message] of cases) {
    assert.throws(
      () => compileConditions(block, 'Statement[0]', true),
      (e: unknown) => e instanceof PolicyError && message.test(e.message),
      `${JSON.stringify(block)} should fail with ${String(message)}`,
    );
  }
});
