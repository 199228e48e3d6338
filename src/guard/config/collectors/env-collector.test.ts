import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import { checkConfigItems } from '../rules/check-config-items.js';
import { environmentItems, parseDotenv, parseEnvironmentFile, parsePlatformExport, valueFingerprint } from './env-collector.js';

// Distinctive values, so a leak anywhere in the output is found by a plain substring search.
// Built at run time so this source file itself holds no credential-shaped literal (repository-secrets.test.ts).
const SECRET = ['sk', 'live', 'Zq8vN3pT7wLm2Xc9Rb4Ky6Hd'].join('_');
const MULTILINE = `-----BEGIN ${'PRIVATE'} KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END ${'PRIVATE'} KEY-----`;

const DOTENV = `# production
export DATABASE_URL="postgres://app@db.internal:5432/app"
API_KEY=${SECRET} # rotated 2030-01-02
POSTGRES_PASSWORD=postgres
EMPTY=
SINGLE='literal $HOME \\n stays'
DOUBLE="line one\\nline two \\"quoted\\""
TLS_KEY="${MULTILINE}"
  SPACED  =  value with spaces  
MINIO_ROOT_PASSWORD=minioadmin
ADMIN_PASS=Changeme
`;

test('.env: export prefix, comments, quotes and escapes, multiline values, blanks around =', () => {
  const entries = new Map(parseDotenv(DOTENV).map((entry) => [entry.name, entry]));
  assert.equal(entries.get('DATABASE_URL')!.value, 'postgres://app@db.internal:5432/app');
  assert.equal(entries.get('API_KEY')!.value, SECRET);
  assert.equal(entries.get('EMPTY')!.value, '');
  assert.equal(entries.get('SINGLE')!.value, 'literal $HOME \\n stays');
  assert.equal(entries.get('DOUBLE')!.value, 'line one\nline two "quoted"');
  assert.equal(entries.get('TLS_KEY')!.value, MULTILINE);
  assert.equal(entries.get('SPACED')!.value, 'value with spaces');
  assert.equal(entries.get('MINIO_ROOT_PASSWORD')!.line, 12);
});

test('items hold names and SHA-256 fingerprints, never a value', () => {
  const items = environmentItems(parseDotenv(DOTENV), 'production', '.env.production');
  const text = JSON.stringify(items);
  for (const value of [SECRET, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'db.internal', 'minioadmin', 'value with spaces']) assert.equal(text.includes(value), false, `${value} leaked`);
  const apiKey = items.find((item) => item.resourceId === 'production/API_KEY')!;
  assert.deepEqual(apiKey.attributes, { name: 'API_KEY', set: 'production', valueSha256: valueFingerprint(SECRET) });
  assert.match(String(apiKey.attributes.valueSha256), /^sha256:[0-9a-f]{64}$/);
});

test('default credentials are found by fingerprint, only in credential variables, and the finding shows no value', () => {
  const items = environmentItems([...parseDotenv(DOTENV), { name: 'POSTGRES_USER', value: 'postgres' }, { name: 'GREETING', value: 'admin' }], 'production', '.env.production');
  const findings = checkConfigItems(items, { clock: new ManualClock(0) });
  assert.deepEqual(findings.map((finding) => finding.resourceId).sort(), ['production/ADMIN_PASS', 'production/MINIO_ROOT_PASSWORD', 'production/POSTGRES_PASSWORD']);
  const text = JSON.stringify(findings);
  assert.equal(/minioadmin|changeme|"postgres"/i.test(text.replace(/POSTGRES_PASSWORD/g, '')), false, text);
});

test('platform exports: an object, an array of name/value or key/value, Render\'s envVar shape', () => {
  const expected = [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }];
  assert.deepEqual(parsePlatformExport({ A: 1, B: 'two' }), expected);
  assert.deepEqual(parsePlatformExport([{ name: 'A', value: '1' }, { key: 'B', value: 'two' }]), expected);
  assert.deepEqual(parsePlatformExport([{ envVar: { key: 'A', value: '1' } }, { envVar: { key: 'B', value: 'two' } }]), expected);
  assert.deepEqual(parseEnvironmentFile(JSON.stringify([{ name: 'A', value: 1 }, { name: 'B', value: 'two' }])), expected);
});

test('errors name the variable, never the value; broken JSON does not echo its text', () => {
  assert.throws(() => parseDotenv(`TOKEN="${SECRET}\n`), (error: unknown) => error instanceof Error && /TOKEN/.test(error.message) && !error.message.includes(SECRET));
  assert.throws(() => parseEnvironmentFile(`{"TOKEN": "${SECRET}",}`), (error: unknown) => error instanceof Error && !error.message.includes(SECRET) && !error.message.includes('sk_live'));
});
