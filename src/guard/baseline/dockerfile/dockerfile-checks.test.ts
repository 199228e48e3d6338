import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generatedSecrets } from '../../../../test/support/image-fixtures.js';
import { loadSecretRules } from '../../secrets/secret-rules.js';
import { checkDockerfile } from './dockerfile-checks.js';
import { parseDockerfile, substituteVariables } from './dockerfile-parser.js';

const ruleSet = loadSecretRules();
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const PINNED = `FROM debian:12-slim@${DIGEST}`;
const secrets = generatedSecrets();

function ruleIds(text: string, buildArgs?: Map<string, string>): string[] {
  return checkDockerfile(text, 'Dockerfile', { ruleSet, ...(buildArgs === undefined ? {} : { buildArgs }) }).findings.map((finding) => finding.ruleId).sort();
}

describe('Dockerfile parser', () => {
  test('directives, continuations with comments inside, heredocs and the backtick escape', () => {
    const parsed = parseDockerfile(['# syntax=docker/dockerfile:1', '# escape=`', '', 'FROM alpine', 'RUN echo a `', '# a comment inside', '  && echo b', 'RUN <<EOF cat > /x', 'FROM not-an-instruction', 'EOF', 'RUN <<-END', '\tUSER root', '\tEND', 'USER app'].join('\n'));
    assert.equal(parsed.escape, '`');
    assert.equal(parsed.directives.get('syntax'), 'docker/dockerfile:1');
    assert.deepEqual(parsed.instructions.map((instruction) => [instruction.keyword, instruction.line]), [['FROM', 4], ['RUN', 5], ['RUN', 8], ['RUN', 11], ['USER', 14]]);
    assert.equal(parsed.instructions[1]!.args, 'echo a    && echo b');
    assert.equal(parsed.instructions[2]!.heredocs[0]!.body, 'FROM not-an-instruction');
  });

  test('ARG substitution forms', () => {
    const values = new Map([['TAG', '12'], ['EMPTY', '']]);
    assert.equal(substituteVariables('debian:${TAG}', values), 'debian:12');
    assert.equal(substituteVariables('debian:$TAG-slim', values), 'debian:12-slim');
    assert.equal(substituteVariables('x:${EMPTY:-dflt} ${NONE-n} ${TAG:+set} ${NONE:+unset}', values), 'x:dflt n set ');
    assert.equal(substituteVariables('$UNKNOWN', values), '$UNKNOWN');
  });
});

describe('Dockerfile checks: each rule fires on its positive sample and not on its negative one', () => {
  const cases: ReadonlyArray<readonly [rule: string, positive: string, negative: string]> = [
    ['dockerfile-base-latest', 'FROM debian\nUSER 1000', `${PINNED}\nUSER 1000`],
    ['dockerfile-base-latest', 'FROM debian:latest\nUSER 1000', `FROM debian:latest@${DIGEST}\nUSER 1000`],
    ['dockerfile-base-unpinned', 'FROM debian:12-slim\nUSER 1000', `${PINNED}\nUSER 1000`],
    ['dockerfile-base-unpinned', 'ARG VERSION=12\nFROM debian:${VERSION}\nUSER 1000', `ARG VERSION=12\nFROM debian:\${VERSION}@${DIGEST}\nUSER 1000`],
    ['dockerfile-user-root', PINNED, `${PINNED}\nUSER 10001`],
    ['dockerfile-user-root', `${PINNED}\nUSER app\nRUN x\nUSER root`, `${PINNED}\nUSER root\nRUN apt-get update\nUSER 10001:10001`],
    ['dockerfile-user-root', `${PINNED} AS build\nUSER 1000\nFROM ${PINNED.slice(5)}\nCOPY --from=build /a /a`, `FROM ${PINNED.slice(5)} AS build\nUSER 1000\nFROM build\nCOPY x y`],
    ['dockerfile-expose-admin-port', `${PINNED}\nUSER 1\nEXPOSE 8080 22/tcp`, `${PINNED}\nUSER 1\nEXPOSE 8080 2222`],
    ['dockerfile-expose-admin-port', `${PINNED}\nUSER 1\nEXPOSE 20-25`, `${PINNED}\nUSER 1\nEXPOSE 80-90`],
    ['dockerfile-add-url', `${PINNED}\nUSER 1\nADD https://example.org/tool.tgz /opt/`, `${PINNED}\nUSER 1\nADD --checksum=sha256:${'cd'.repeat(32)} https://example.org/tool.tgz /opt/\nADD local.tgz /opt/`],
    ['dockerfile-secret', `${PINNED}\nUSER 1\nENV GITHUB_TOKEN=${secrets.githubToken}`, `${PINNED}\nUSER 1\nENV GITHUB_TOKEN=\${GITHUB_TOKEN}`],
    ['dockerfile-secret', `${PINNED}\nUSER 1\nARG NPM_TOKEN=${secrets.npmToken}`, `${PINNED}\nUSER 1\nARG NPM_TOKEN`],
    ['dockerfile-secret', `${PINNED}\nUSER 1\nRUN curl -H "Authorization: Bearer ${secrets.githubToken}" https://api`, `${PINNED}\nUSER 1\nRUN --mount=type=secret,id=gh curl -H @/run/secrets/gh https://api`],
    ['dockerfile-secret-literal', `${PINNED}\nUSER 1\nENV DB_PASSWORD hunter2`, `${PINNED}\nUSER 1\nENV DB_PASSWORD_FILE=/run/secrets/db`],
    ['dockerfile-default-credential', `${PINNED}\nUSER 1\nENV POSTGRES_PASSWORD=postgres`, `${PINNED}\nUSER 1\nENV POSTGRES_USER=postgres`],
    ['dockerfile-default-credential', `${PINNED}\nUSER 1\nARG ADMIN_PASSWORD=changeme`, `${PINNED}\nUSER 1\nARG ADMIN_USER=admin`],
    ['dockerfile-apt-recommends', `${PINNED}\nRUN apt-get update && apt-get install -y curl \\\n    ca-certificates\nUSER 1`, `${PINNED}\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\nUSER 1`],
    ['dockerfile-sudo', `${PINNED}\nRUN apt-get install --no-install-recommends -y sudo\nUSER 1`, `${PINNED}\nRUN echo pseudo-terminal\nUSER 1`],
    ['dockerfile-sudo', `${PINNED}\nUSER 1\nRUN sudo make install`, `${PINNED}\nUSER 1\nRUN make install`],
    ['dockerfile-chmod-world-writable', `${PINNED}\nRUN chmod -R 777 /app\nUSER 1`, `${PINNED}\nRUN chmod -R 750 /app && chmod 1777 /scratch\nUSER 1`],
    ['dockerfile-chmod-world-writable', `${PINNED}\nRUN chmod a+rwx /data\nUSER 1`, `${PINNED}\nRUN chmod u+x,g+w /data\nUSER 1`],
  ];
  for (const [rule, positive, negative] of cases) {
    test(`${rule}: ${positive.split('\n').at(-1)!.slice(0, 50)}`, () => {
      assert.ok(ruleIds(positive).includes(rule), `${rule} fires on:\n${positive}\n(got ${ruleIds(positive).join(', ')})`);
      assert.deepEqual(ruleIds(negative).filter((id) => id === rule), [], `${rule} stays quiet on:\n${negative}`);
    });
  }

  test('a clean multi-stage Dockerfile gives no finding', () => {
    const text = [
      '# syntax=docker/dockerfile:1.7',
      `ARG NODE=node:20-bookworm-slim@${DIGEST}`,
      'FROM ${NODE} AS build',
      'WORKDIR /src',
      'COPY package*.json ./',
      'RUN --mount=type=secret,id=npm npm ci',
      'RUN <<EOF',
      'npm run build',
      'EOF',
      `FROM gcr.io/distroless/nodejs20-debian12:nonroot@${DIGEST}`,
      'COPY --from=build /src/dist /app',
      'EXPOSE 8080',
      'ENV NODE_ENV=production PORT=8080',
      'USER 65532',
      'CMD ["/app/server.js"]',
    ].join('\n');
    assert.deepEqual(checkDockerfile(text, 'Dockerfile', { ruleSet }).findings, []);
  });

  test('a base named by an ARG without a value is not judged; --build-arg gives it one', () => {
    const text = 'ARG BASE\nFROM ${BASE}\nUSER 1';
    const result = checkDockerfile(text, 'Dockerfile', { ruleSet });
    assert.deepEqual(result.unresolved, [2]);
    assert.deepEqual(ruleIds(text, new Map([['BASE', 'debian:latest']])), ['dockerfile-base-latest']);
  });

  test('findings name the line, the fix and the policy; no secret is shown', () => {
    const result = checkDockerfile(`${PINNED}\nUSER 1\n\nENV A=1 \\\n    GITHUB_TOKEN=${secrets.githubToken}\n`, 'deploy/Dockerfile', { ruleSet });
    assert.equal(result.findings.length, 1);
    const [finding] = result.findings;
    assert.deepEqual(finding!.location, { path: 'deploy/Dockerfile', line: 4, within: 'ENV GITHUB_TOKEN' });
    assert.equal(finding!.severity, 'critical');
    assert.ok(!JSON.stringify(finding).includes(secrets.githubToken));
    assert.equal(finding!.policy.section, '4.1');
  });
});
