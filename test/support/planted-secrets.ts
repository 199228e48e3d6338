import { generateKeyPairSync } from 'node:crypto';

/**
 * A corpus of planted secrets and decoys, made at test time. Every secret-looking string is built
 * from pieces (`'gh' + 'p_'`) and a seeded generator, so this repository holds no secret and does
 * not trip secret scanners, and every run plants the same values.
 */
export interface PlantedSecret {
  readonly file: string;
  readonly ruleId: string;
  /** The secret exactly as the scanner should fingerprint it (line breaks removed). */
  readonly secret: string;
  readonly encoding: 'plain' | 'base64' | 'joined-lines';
}

export interface SecretCorpus {
  /** Relative path → content. */
  readonly files: ReadonlyMap<string, string>;
  readonly planted: readonly PlantedSecret[];
  /** Files that look close to a rule's secrets but hold none: no finding of any rule allowed. */
  readonly decoys: ReadonlyArray<{ readonly file: string; readonly ruleId: string }>;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const BASE64 = `${ALNUM}+/`;

/** mulberry32: a small seeded generator, so the corpus is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base64Url = (text: string) => Buffer.from(text).toString('base64url');
const wrap = (text: string, width = 64) => text.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
const unbroken = (text: string) => text.replace(/\\[nr]|\s/g, '');

export function plantedSecretsCorpus(seed = 20310203): SecretCorpus {
  const random = seeded(seed);
  /** `length` characters of `alphabet`, with at least two digits when the alphabet has them. */
  const pick = (alphabet: string, length: number): string => {
    for (;;) {
      let out = '';
      for (let index = 0; index < length; index++) out += alphabet[Math.floor(random() * alphabet.length)];
      if (!/[0-9]/.test(alphabet) || (out.match(/[0-9]/g) ?? []).length >= 2) return out;
    }
  };
  const files = new Map<string, string>();
  const planted: PlantedSecret[] = [];
  const decoys: Array<{ file: string; ruleId: string }> = [];
  const plant = (file: string, content: string, secrets: Array<[ruleId: string, secret: string, encoding?: PlantedSecret['encoding']]>) => {
    files.set(file, content);
    for (const [ruleId, secret, encoding = 'plain'] of secrets) planted.push({ file, ruleId, secret, encoding });
  };
  const decoy = (file: string, ruleId: string, content: string) => {
    files.set(file, content);
    decoys.push({ file, ruleId });
  };

  // AWS
  const awsId = 'AK' + 'IA' + pick(`${UPPER}234567`, 16);
  const awsSecret = pick(BASE64, 40);
  plant('aws/.env', `AWS_ACCESS_KEY_ID=${awsId}\nREGION=eu-west-1\n`, [['aws-access-key-id', awsId]]);
  plant('aws/settings.py', `# deployment\naws_secret_access_key = "${awsSecret}"\n`, [['aws-secret-access-key', awsSecret]]);
  const pairId = 'AS' + 'IA' + pick(`${UPPER}234567`, 16);
  const pairSecret = pick(BASE64, 40);
  plant('aws/credentials.csv', `User name,Access key ID,Secret access key\nci,${pairId},${pairSecret}\n`, [
    ['aws-access-key-id', pairId],
    ['aws-key-pair-secret', pairSecret],
  ]);
  decoy('aws/docs.md', 'aws-access-key-id', `Example: AWS_ACCESS_KEY_ID=${'AKIA' + 'IOSFODNN7' + 'EXAMPLE'} and lowercase akia${'abcdefghij'}\n`);
  decoy('aws/template.env', 'aws-secret-access-key', 'aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n' + `aws_secret_access_key=${'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY'}\n`);
  decoy('aws/checksums.txt', 'aws-key-pair-secret', `release tarball checksum ${pick(BASE64, 40)}\n`);

  // GCP
  const { privateKey: gcpKey } = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const gcpJson = JSON.stringify({ type: 'service_account', project_id: 'demo-123', private_key_id: pick('0123456789abcdef', 40), private_key: gcpKey, client_email: 'ci@demo-123.iam.gserviceaccount.com' }, null, 2);
  plant('gcp/sa.json', `${gcpJson}\n`, [['gcp-service-account-key', unbroken(gcpKey.replace(/-----[A-Z ]+-----/g, ''))]]);
  decoy('gcp/sa-template.json', 'gcp-service-account-key', `${JSON.stringify({ type: 'service_account', private_key: '-----BEGIN PRIVATE KEY-----\n<your private key>\n-----END PRIVATE KEY-----\n' }, null, 2)}\n`);

  // Azure
  const azureKey = `${pick(BASE64, 86)}==`;
  plant('azure/app.config', `<add key="Storage" value="DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${azureKey};EndpointSuffix=core.windows.net" />\n`, [['azure-storage-connection-string', azureKey]]);
  const azureKey2 = `${pick(BASE64, 86)}==`;
  plant('azure/settings.yaml', `azure_storage_key: "${azureKey2}"\n`, [['azure-storage-account-key', azureKey2]]);
  const sig = `${pick(ALNUM, 40)}%3D`;
  plant('azure/download.sh', `curl "https://acme.blob.core.windows.net/backups/db.gz?sv=2022-11-02&ss=b&srt=o&sp=r&se=2031-01-01T00:00:00Z&spr=https&sig=${sig}"\n`, [['azure-sas-token', sig]]);
  const entraSecret = `${pick(ALNUM, 3)}8Q~${pick(ALNUM, 34)}`;
  plant('azure/entra.json', `{ "clientId": "app", "credential": "${entraSecret}" }\n`, [['azure-ad-client-secret', entraSecret]]);
  decoy('azure/template.config', 'azure-storage-connection-string', 'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${AZURE_STORAGE_KEY};EndpointSuffix=core.windows.net\n');
  decoy('azure/settings.template.yaml', 'azure-storage-account-key', 'azure_storage_key: "<storage-account-key>"\n');
  decoy('azure/sas.md', 'azure-sas-token', 'Append a SAS: ?sv=2022-11-02&sp=r&sig=<signature>\n');
  decoy('azure/entra.md', 'azure-ad-client-secret', `credential: "xxx8Q~${'x'.repeat(34)}"\n`);

  // Source hosts
  const ghp = 'gh' + 'p_' + pick(ALNUM, 36);
  plant('github/ci.yml', `env:\n  GH_TOKEN: ${ghp}\n`, [['github-token', ghp]]);
  const gho = 'gh' + 'o_' + pick(ALNUM, 36);
  plant('github/oauth.txt', `${gho}\n`, [['github-token', gho]]);
  const fineGrained = 'github' + '_pat_' + pick(ALNUM, 22) + '_' + pick(ALNUM, 59);
  plant('github/fine.env', `GITHUB_PAT=${fineGrained}\n`, [['github-fine-grained-token', fineGrained]]);
  const glpat = 'gl' + 'pat-' + pick(`${ALNUM}_-`, 20);
  plant('gitlab/.netrc', `machine gitlab.com login ci password ${glpat}\n`, [['gitlab-token', glpat]]);
  decoy('github/readme.md', 'github-token', `Set GH_TOKEN=${'ghp_' + 'x'.repeat(36)} (a ${'ghp_' + 'short'} prefix is not enough)\n`);
  decoy('github/fine.md', 'github-fine-grained-token', 'GITHUB_PAT=github_pat_<your-token>\n');
  decoy('gitlab/readme.md', 'gitlab-token', `token: ${'glpat-' + 'x'.repeat(20)}\n`);

  // Chat
  const slackToken = 'xo' + 'xb-' + pick(DIGITS, 12) + '-' + pick(DIGITS, 13) + '-' + pick(ALNUM, 24);
  plant('slack/bot.ts', `const client = new WebClient('${slackToken}');\n`, [['slack-token', slackToken]]);
  const hookPath = pick(ALNUM, 24);
  plant('slack/notify.sh', `curl -X POST https://hooks.slack` + `.com/services/T${pick(UPPER + DIGITS, 10)}/B${pick(UPPER + DIGITS, 10)}/${hookPath} -d @msg.json\n`, [['slack-webhook-url', hookPath]]);
  decoy('slack/readme.md', 'slack-token', `token: ${'xoxb-' + '0000000000-0000000000000-' + 'X'.repeat(24)}\n`);
  decoy('slack/webhook.md', 'slack-webhook-url', `https://hooks.slack.com/services/T00000000/B00000000/${'X'.repeat(24)}\n`);

  // Payments
  const stripeLive = 'sk' + '_live_' + pick(ALNUM, 24);
  plant('stripe/server.rb', `Stripe.api_key = '${stripeLive}'\n`, [['stripe-secret-key', stripeLive]]);
  const stripeTest = 'sk' + '_test_' + pick(ALNUM, 24);
  plant('stripe/test.env', `STRIPE_KEY=${stripeTest}\n`, [['stripe-test-key', stripeTest]]);
  const whsec = 'wh' + 'sec_' + pick(ALNUM, 32);
  plant('stripe/webhook.go', `const endpointSecret = "${whsec}"\n`, [['stripe-webhook-secret', whsec]]);
  decoy('stripe/readme.md', 'stripe-secret-key', `Stripe.api_key = '${'sk_live_' + 'x'.repeat(24)}'\n`);
  decoy('stripe/test.md', 'stripe-test-key', 'STRIPE_KEY=sk_test_short\n');
  decoy('stripe/webhook.md', 'stripe-webhook-secret', `endpointSecret = "whsec_${'*'.repeat(32)}"\n`);

  // AI APIs
  const openaiProject = 'sk-' + 'proj-' + pick(`${ALNUM}_-`, 56);
  plant('ai/openai.env', `OPENAI_API_KEY=${openaiProject}\n`, [['openai-api-key', openaiProject]]);
  const openaiLegacy = 'sk-' + pick(ALNUM, 20) + 'T3Blbk' + 'FJ' + pick(ALNUM, 20);
  plant('ai/legacy.py', `openai.api_key = "${openaiLegacy}"\n`, [['openai-api-key', openaiLegacy]]);
  const anthropic = 'sk-' + 'ant-' + 'api03-' + pick(`${ALNUM}_-`, 93) + 'AA';
  plant('ai/anthropic.ts', `const client = new Anthropic({ apiKey: '${anthropic}' });\n`, [['anthropic-api-key', anthropic]]);
  const googleKey = 'AI' + 'za' + pick(`${ALNUM}_-`, 35);
  plant('ai/gemini.js', `const genAI = new GoogleGenerativeAI("${googleKey}");\n`, [['google-api-key', googleKey]]);
  const hfToken = 'hf' + '_' + pick(UPPER + LOWER, 34);
  plant('ai/hf.sh', `huggingface-cli login --token ${hfToken}\n`, [['huggingface-token', hfToken]]);
  const npmToken = 'npm' + '_' + pick(ALNUM, 36);
  plant('npm/.npmrc', `//registry.npmjs.org/:_authToken=${npmToken}\n`, [['npm-access-token', npmToken]]);
  decoy('ai/readme.md', 'openai-api-key', `OPENAI_API_KEY=${'sk-proj-' + 'x'.repeat(56)}; see the task-list and disk-usage docs\n`);
  decoy('ai/anthropic.md', 'anthropic-api-key', 'ANTHROPIC_API_KEY=sk-ant-api03-...\n');
  decoy('ai/gemini.md', 'google-api-key', `key=${'AIza' + 'X'.repeat(35)}\n`);
  decoy('ai/hf.md', 'huggingface-token', `--token ${'hf_' + 'x'.repeat(34)}\n`);
  decoy('npm/readme.md', 'npm-access-token', `//registry.npmjs.org/:_authToken=\${NPM_TOKEN} (npm_config_cache is unrelated)\n`);

  // Databases
  const pgPassword = pick(ALNUM, 18);
  plant('db/config.yaml', `database_url: postgres://app:${pgPassword}@db.internal:5432/app\n`, [['database-url-password', pgPassword]]);
  const mongoPassword = pick(ALNUM, 16);
  plant('db/mongo.js', `mongoose.connect('mongodb+srv://svc:${mongoPassword}@cluster0.ab12c.mongodb.net/prod');\n`, [['database-url-password', mongoPassword]]);
  const mysqlPassword = pick(ALNUM, 12);
  plant('db/mysql.ini', `dsn=mysql://root:${mysqlPassword}@127.0.0.1:3306/shop\n`, [['database-url-password', mysqlPassword]]);
  decoy('db/template.yaml', 'database-url-password', 'database_url: postgres://app:${DB_PASSWORD}@db:5432/app\nother: postgres://app@db/app\ndocs: mysql://user:password@localhost/db\n');

  // Private keys
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  plant('keys/id_rsa', rsa.privateKey, [['private-key', unbroken(rsa.privateKey.replace(/-----[A-Z ]+-----/g, ''))]]);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  plant('keys/ec.pem', `# service key\n${ec.privateKey}`, [['private-key', unbroken(ec.privateKey.replace(/-----[A-Z ]+-----/g, ''))]]);
  const pkcs8 = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  plant('keys/ed25519.pem', pkcs8.privateKey, [['private-key', unbroken(pkcs8.privateKey.replace(/-----[A-Z ]+-----/g, ''))]]);
  const opensshBody = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB' + pick(BASE64, 300);
  plant('keys/id_ed25519', `-----BEGIN OPENSSH ${'PRIVATE'} KEY-----\n${wrap(opensshBody, 70)}\n-----END OPENSSH PRIVATE KEY-----\n`, [['private-key', opensshBody]]);
  const pgpBody = `${pick(BASE64, 600)}\n=${pick(BASE64, 4)}`;
  plant('keys/secret.asc', `-----BEGIN PGP ${'PRIVATE'} KEY BLOCK-----\n\n${wrap(pgpBody.split('\n')[0]!)}\n${pgpBody.split('\n')[1]}\n-----END PGP PRIVATE KEY BLOCK-----\n`, [['pgp-private-key', unbroken(pgpBody)]]);
  decoy('keys/readme.md', 'private-key', `Put your key here:\n-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n${rsa.publicKey}`);
  decoy('keys/public.asc', 'pgp-private-key', `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${wrap(pick(BASE64, 300))}\n-----END PGP PUBLIC KEY BLOCK-----\n`);

  // JWT
  const jwt = `${base64Url('{"alg":"HS256","typ":"JWT"}')}.${base64Url(`{"sub":"${pick(DIGITS, 8)}","role":"admin","iat":1924992000}`)}.${pick(`${ALNUM}_-`, 43)}`;
  plant('jwt/request.http', `GET /api/me\nAuthorization: Bearer ${jwt}\n`, [['jwt', jwt]]);
  decoy('jwt/unsigned.txt', 'jwt', `${base64Url('{"alg":"none"}')}.${base64Url('{"sub":"1"}')}.\n`);

  // Generic assignments
  const dbPassword = `${pick(ALNUM, 14)}!${pick(DIGITS, 3)}`;
  plant('generic/.env', `DB_PASSWORD=${dbPassword}\n`, [['generic-secret-assignment', dbPassword]]);
  const apiKey = pick(ALNUM, 32);
  plant('generic/config.json', `{\n  "service": { "api_key": "${apiKey}" }\n}\n`, [['generic-secret-assignment', apiKey]]);
  decoy('generic/app.ts', 'generic-secret-assignment', [
    'const password = process.env.DB_PASSWORD;',
    'const token = getToken();',
    'password: "changeme"',
    'secret = "${SECRET}"',
    'const tokenizer = new Tokenizer2Factory3();',
    'headers["X-Session-Token"] = sessionToken123;',
    '',
  ].join('\n'));

  // A secret split across lines by string concatenation, and PEM lines concatenated in code.
  const splitToken = 'gh' + 'p_' + pick(ALNUM, 36);
  plant('split/client.js', `const token = "${splitToken.slice(0, 20)}" +\n  "${splitToken.slice(20)}";\n`, [['github-token', splitToken, 'joined-lines']]);
  const splitStripe = 'sk' + '_live_' + pick(ALNUM, 24);
  plant('split/settings.py', `STRIPE = ("${splitStripe.slice(0, 15)}"\n          "${splitStripe.slice(15)}")\n`, [['stripe-secret-key', splitStripe, 'joined-lines']]);
  const concatenatedKey = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  plant('split/tls.js', `module.exports.key =\n${concatenatedKey.trimEnd().split('\n').map((line) => `  '${line}\\n'`).join(' +\n')};\n`, [
    ['private-key', unbroken(concatenatedKey.replace(/-----[A-Z ]+-----/g, '')), 'joined-lines'],
  ]);

  // Secrets inside base64: a Kubernetes Secret and a Docker config.
  const k8sPassword = pick(ALNUM, 20);
  plant('base64/secret.yaml', `apiVersion: v1\nkind: Secret\ndata:\n  DATABASE_URL: ${Buffer.from(`postgresql://api:${k8sPassword}@pg.prod:5432/api`).toString('base64')}\n`, [['database-url-password', k8sPassword, 'base64']]);
  const dockerToken = 'gh' + 'p_' + pick(ALNUM, 36);
  plant('base64/config.json', `{"auths":{"ghcr.io":{"auth":"${Buffer.from(`ci:${dockerToken}`).toString('base64')}"}}}\n`, [['github-token', dockerToken, 'base64']]);
  decoy('base64/binary.yaml', 'jwt', `data:\n  blob: ${Buffer.from(Array.from({ length: 64 }, (_, index) => (index * 37) % 256)).toString('base64')}\n`);

  return { files, planted, decoys };
}
