import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { badImage, dockerSaveTarball, generatedSecrets, goodImage, writeOciLayout, type ImageSpec } from '../../../../test/support/image-fixtures.js';
import { loadSecretRules } from '../../secrets/secret-rules.js';
import type { BaselineFinding } from '../baseline-finding.js';
import { DEFAULT_IMAGE_MAX_FILE_BYTES, DEFAULT_MAX_PACKAGES, scanImage } from './image-scan.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-image-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const options = { ruleSet: loadSecretRules(), maxFileBytes: DEFAULT_IMAGE_MAX_FILE_BYTES, maxPackages: DEFAULT_MAX_PACKAGES };
const forms = ['oci-layout', 'docker-save', 'docker-save-oci'] as const;

async function materialize(spec: ImageSpec, form: (typeof forms)[number], name: string): Promise<string> {
  if (form === 'oci-layout') return writeOciLayout(join(scratch, name), spec);
  const file = join(scratch, `${name}.tar`);
  await writeFile(file, dockerSaveTarball(spec, form === 'docker-save' ? 'classic' : 'oci'));
  return file;
}

const ids = (findings: readonly BaselineFinding[]) => [...new Set(findings.map((finding) => finding.ruleId))].sort();
const evidence = (findings: readonly BaselineFinding[], ruleId: string) => findings.filter((finding) => finding.ruleId === ruleId).map((finding) => finding.evidence);

for (const form of forms) {
  describe(`image checks on a ${form}`, () => {
    const secrets = generatedSecrets();

    test('every check fires on the bad image, with the policy sentence and no secret in the output', async () => {
      const result = await scanImage(await materialize(badImage(secrets), form, `bad-${form}`), options);
      assert.deepEqual(result.problems, []);
      assert.deepEqual(ids(result.findings), [
        'image-admin-port-exposed',
        'image-base-unpinned',
        'image-default-credential',
        'image-env-secret',
        'image-env-secret-literal',
        'image-file-secret',
        'image-non-essential-service',
        'image-package-count',
        'image-runs-as-root',
        'image-setuid-files',
        'image-ssh-server',
        'image-unneeded-package',
        'image-world-writable',
      ]);
      const { findings } = result;
      assert.match(evidence(findings, 'image-runs-as-root')[0]!, /"admin", which \/etc\/passwd maps to uid 0/);
      assert.deepEqual(evidence(findings, 'image-admin-port-exposed'), ['EXPOSE 22/tcp (SSH)']);
      assert.equal(findings.find((finding) => finding.ruleId === 'image-admin-port-exposed')!.policy.statement, 'No SSH access — Server-level access is disabled.');
      assert.deepEqual(evidence(findings, 'image-ssh-server'), ['OpenSSH server: /usr/sbin/sshd, package openssh-server']);
      // The telnet daemon was deleted by a whiteout, supervisord by an opaque directory.
      assert.deepEqual(evidence(findings, 'image-non-essential-service'), ['cron: /usr/sbin/cron, package cron']);
      assert.deepEqual(evidence(findings, 'image-unneeded-package').sort(), ['curl (downloader)', 'gcc (compiler)', 'gcc-12 (compiler)']);
      assert.match(evidence(findings, 'image-package-count')[0]!, /^171 packages/);
      assert.deepEqual(evidence(findings, 'image-default-credential'), ["POSTGRES_PASSWORD is set to the image's documented default"]);
      assert.deepEqual(findings.filter((finding) => finding.ruleId === 'image-env-secret').map((finding) => finding.location.within).sort(), ['config.Env GITHUB_TOKEN', 'history[1]']);
      assert.match(evidence(findings, 'image-env-secret-literal')[0]!, /^SESSION_SECRET=/);
      const files = findings.filter((finding) => finding.ruleId === 'image-file-secret');
      assert.deepEqual(files.map((finding) => finding.location.within).sort(), ['/app/.env (layer 1)', '/app/config/payments.yml (layer 1)']);
      assert.match(files.find((finding) => finding.location.within === '/app/.env (layer 1)')!.evidence, /deleted or replaced in a later layer, but still in layer 1/);
      assert.doesNotMatch(files.find((finding) => finding.location.within === '/app/config/payments.yml (layer 1)')!.evidence, /deleted/);
      assert.match(evidence(findings, 'image-setuid-files')[0]!, /\/usr\/bin\/passwd/);
      assert.match(evidence(findings, 'image-world-writable')[0]!, /^1 world-writable path\(s\) without the sticky bit: \/srv\/uploads$/);
      const output = JSON.stringify(result);
      for (const secret of Object.values(secrets)) assert.ok(!output.includes(secret), 'no secret in the result');
      for (const finding of findings) assert.ok(finding.policy.statement.endsWith('.') && finding.fix.length > 20 && /^[0-9a-f]{32}$/.test(finding.fingerprint));
      assert.equal(result.facts.packages, 171);
      assert.equal(result.facts.distribution, 'Debian GNU/Linux 12 (bookworm)');
    });

    test('the good image gives no finding, and its deleted sshd and busybox stay deleted', async () => {
      const result = await scanImage(await materialize(goodImage(), form, `good-${form}`), options);
      assert.deepEqual(result.problems, []);
      assert.deepEqual(result.findings, []);
      assert.equal(result.facts.distroless, true);
      assert.equal(result.facts.packages, 3);
      assert.match(String(result.facts.basePinnedBy), /base\.digest/);
      assert.equal(result.facts.user, 'uid 10001');
    });
  });
}

describe('image edge cases', () => {
  test('a distroless image with a shell and a package manager added', async () => {
    const spec = goodImage();
    const tampered: ImageSpec = { ...spec, layers: [...spec.layers, { entries: [{ path: 'bin/busybox', content: '\x7fELF', mode: 0o755 }, { path: 'bin/sh', type: 'symlink', linkpath: 'busybox' }, { path: 'usr/bin/dpkg', content: '\x7fELF', mode: 0o755 }] }] };
    const result = await scanImage(await materialize(tampered, 'oci-layout', 'distroless-shell'), options);
    assert.deepEqual(ids(result.findings), ['image-package-manager-left', 'image-shell-in-distroless']);
    assert.deepEqual(evidence(result.findings, 'image-shell-in-distroless').sort(), ['/bin/busybox in a distroless image', '/bin/sh in a distroless image']);
  });

  test('an image built FROM scratch: its base cannot be identified, and without a package database its tools are found by path', async () => {
    const spec: ImageSpec = {
      name: 'acme/scratch:1',
      config: { config: { User: '10001', Entrypoint: ['/app/server'] } },
      layers: [
        {
          entries: [
            { path: 'app/server', content: '\x7fELF static server\0', mode: 0o755 },
            { path: 'usr/bin/gcc', content: '\x7fELF fake gcc\0', mode: 0o755 },
            { path: 'usr/local/bin/curl', content: '\x7fELF fake curl\0', mode: 0o755 },
            { path: 'bin/nc', type: 'symlink', linkpath: 'busybox' },
          ],
        },
      ],
    };
    const result = await scanImage(await materialize(spec, 'oci-layout', 'scratch'), options);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(ids(result.findings), ['image-base-unidentified', 'image-unneeded-tool']);
    assert.match(evidence(result.findings, 'image-base-unidentified')[0]!, /no \/etc\/os-release and no org\.opencontainers\.image\.base\.name label/);
    // A symbolic link to a missing busybox is no program.
    assert.deepEqual(evidence(result.findings, 'image-unneeded-tool').sort(), ['/usr/bin/gcc (compiler)', '/usr/local/bin/curl (downloader)']);
    // The same image labelled with its base and with no tools: quiet.
    const labelled: ImageSpec = { ...spec, config: { config: { User: '10001', Labels: { 'org.opencontainers.image.base.name': 'scratch', 'org.opencontainers.image.base.digest': `sha256:${'cd'.repeat(32)}` } } }, layers: [{ entries: [spec.layers[0]!.entries[0]!] }] };
    const quiet = await scanImage(await materialize(labelled, 'oci-layout', 'scratch-labelled'), options);
    assert.deepEqual(quiet.findings, []);
  });

  test('a zstd layer is reported as not readable, and the other layers are still checked', async () => {
    const spec = badImage();
    const withZstd: ImageSpec = { ...spec, layers: [...spec.layers, { zstd: true, entries: [{ path: 'x', content: 'y' }] }] };
    const result = await scanImage(await materialize(withZstd, 'oci-layout', 'zstd'), options);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!.message, /layer 3: zstd layer not readable/);
    assert.ok(result.findings.some((finding) => finding.ruleId === 'image-ssh-server'));
  });

  test('a layer altered after the manifest was written is reported', async () => {
    const dir = await materialize(goodImage(), 'oci-layout', 'altered');
    const index = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const nested = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'blobs/sha256', nested.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    const { buildTar } = await import('../../../../test/support/tar-writer.js');
    await writeFile(join(dir, 'blobs/sha256', manifest.layers[1]!.digest.slice(7)), buildTar([{ path: 'app/server', content: 'swapped' }]));
    const result = await scanImage(dir, options);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!.message, /does not match its digest/);
  });

  test('--image chooses among several images; an unknown name is refused with the names there are', async () => {
    const file = join(scratch, 'choose.tar');
    await writeFile(file, dockerSaveTarball(goodImage()));
    await assert.rejects(scanImage(file, { ...options, select: 'acme/other:2' }), /no image named acme\/other:2 in manifest.json; it has acme\/good:1.0/);
    const result = await scanImage(file, { ...options, select: 'acme/good:1.0' });
    assert.equal(result.facts.image, 'acme/good:1.0');
  });
});
