import type { SecretRuleSet } from '../../secrets/secret-rules.js';
import { redactSecret, secretFingerprint } from '../../secrets/secret-finding.js';
import { scanText } from '../../secrets/secret-scanner.js';
import type { Severity } from '../../severity.js';
import type { BaselineFinding } from '../baseline-finding.js';
import { NO_SSH_ACCESS } from '../baseline-finding.js';
import { BASELINE_LISTS, type BaselineLists } from '../baseline-lists.js';
import { baselineFinding } from '../baseline-rules.js';
import { checkEnvironmentVariable, describeEnvironmentIssue, parseEnvironmentEntry } from '../environment-checks.js';
import { installedPackages, osRelease, passwdUsers } from './image-contents.js';
import type { ResolvedImage } from './image-manifest.js';
import type { FileNode, LayeredFilesystem } from './layered-filesystem.js';

/** A secret the scanner found in a layer's file (the secret itself is not kept). */
export interface FileSecret {
  readonly path: string;
  readonly layer: number;
  readonly line: number;
  readonly ruleId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly redacted: string;
  readonly fingerprint: string;
}

export interface ImageCheckInput {
  readonly image: ResolvedImage;
  readonly fs: LayeredFilesystem;
  /** The image as the report names it (relative to the scanned root). */
  readonly target: string;
  readonly fileSecrets: readonly FileSecret[];
  readonly ruleSet: SecretRuleSet;
  readonly maxPackages: number;
  readonly lists?: BaselineLists;
}

export interface ImageCheckResult {
  readonly findings: BaselineFinding[];
  readonly facts: Record<string, unknown>;
}

const BASE_NAME_LABEL = 'org.opencontainers.image.base.name';
const BASE_DIGEST_LABEL = 'org.opencontainers.image.base.digest';
const DIGEST_IN_TEXT = /@sha256:[a-f0-9]{64}/;

function isExecutableFile(node: FileNode | undefined): boolean {
  return node !== undefined && (node.kind === 'file' || node.kind === 'hardlink');
}

/**
 * Is the program at `path` there? A regular file (or hard link), or a symbolic link to one that
 * is not busybox: busybox's applet links (crond, telnetd) come with Alpine's base and are not a
 * service someone added.
 */
function programPresent(fs: LayeredFilesystem, path: string): boolean {
  const own = fs.getOwn(path);
  if (own === undefined) return false;
  if (own.kind === 'symlink') return !own.linkpath.endsWith('busybox') && isExecutableFile(fs.get(path));
  return isExecutableFile(own);
}

/** config.User "name", "uid", "name:group", "uid:gid" → is it uid 0? */
function userIsRoot(user: string, users: Map<string, number> | undefined): { root: boolean; why: string } {
  const name = user.split(':')[0]!.trim();
  if (name === '') return { root: true, why: 'config.User is empty, so the container runs as root (uid 0)' };
  if (/^\d+$/.test(name)) return Number(name) === 0 ? { root: true, why: `config.User is "${user}" (uid 0)` } : { root: false, why: `uid ${name}` };
  if (name === 'root') return { root: true, why: `config.User is "${user}"` };
  const uid = users?.get(name);
  if (uid === 0) return { root: true, why: `config.User is "${user}", which /etc/passwd maps to uid 0` };
  return { root: false, why: uid === undefined ? `${name} (not in /etc/passwd)` : `${name} (uid ${uid})` };
}

export function checkImage(input: ImageCheckInput): ImageCheckResult {
  const { image, fs, target } = input;
  const lists = input.lists ?? BASELINE_LISTS;
  const findings: BaselineFinding[] = [];
  const at = (within: string) => ({ path: target, within });
  const config = image.config.config ?? {};
  const labels = config.Labels ?? {};

  // Runs as root
  const users = passwdUsers(fs);
  const user = userIsRoot(config.User ?? '', users);
  if (user.root) findings.push(baselineFinding('image-runs-as-root', { evidence: user.why, location: at('config.User'), subject: 'user' }));

  // Exposed ports
  const ports = Object.keys(config.ExposedPorts ?? {}).sort();
  for (const port of ports) {
    const admin = lists.adminPorts.get(Number(port.split('/')[0]));
    if (admin === undefined) continue;
    findings.push(baselineFinding('image-admin-port-exposed', { evidence: `EXPOSE ${port} (${admin.service})`, location: at('config.ExposedPorts'), subject: port, severity: admin.severity, ...(admin.port === 22 ? { policy: NO_SSH_ACCESS } : {}) }));
  }

  // Packages and services
  const packages = installedPackages(fs);
  const installed = new Set(packages.names);
  const servicePackages = new Set<string>();
  for (const service of lists.services) {
    const paths = service.paths.filter((path) => programPresent(fs, path));
    const names = service.packages.filter((name) => installed.has(name));
    names.forEach((name) => servicePackages.add(name));
    if (paths.length === 0 && names.length === 0) continue;
    const evidence = `${service.service}: ${[...paths.map((path) => `/${path}`), ...names.map((name) => `package ${name}`)].join(', ')}`;
    if (service.ssh) findings.push(baselineFinding('image-ssh-server', { evidence, location: at(paths[0] === undefined ? packages.databases[0] ?? 'filesystem' : `/${paths[0]}`), subject: service.service }));
    else findings.push(baselineFinding('image-non-essential-service', { evidence, location: at(paths[0] === undefined ? packages.databases[0] ?? 'filesystem' : `/${paths[0]}`), subject: service.service, severity: service.severity }));
  }
  for (const name of packages.names) {
    if (servicePackages.has(name)) continue;
    const category = lists.unneededPackages.find((entry) => entry.pattern.test(name));
    if (category === undefined) continue;
    findings.push(baselineFinding('image-unneeded-package', { evidence: `${name} (${category.category})`, location: at(packages.databases.join(' ')), subject: name, severity: category.severity }));
  }
  if (packages.databases.length === 0) {
    for (const tool of lists.unneededTools) {
      for (const name of tool.names) {
        const path = lists.toolDirectories.map((directory) => `${directory}/${name}`).find((candidate) => programPresent(fs, candidate));
        if (path !== undefined) findings.push(baselineFinding('image-unneeded-tool', { evidence: `/${path} (${tool.category})`, location: at(`/${path}`), subject: name, severity: tool.severity }));
      }
    }
  }
  if (packages.names.length > input.maxPackages) {
    findings.push(baselineFinding('image-package-count', { evidence: `${packages.names.length} packages installed (more than ${input.maxPackages}; --max-packages)`, location: at(packages.databases.join(' ')), subject: 'count' }));
  }

  // Base image
  const release = osRelease(fs);
  const baseName = labels[BASE_NAME_LABEL];
  const baseDigest = labels[BASE_DIGEST_LABEL];
  const history = image.config.history ?? [];
  const historyDigest = history.map((step) => `${step.created_by ?? ''} ${step.comment ?? ''}`).find((line) => DIGEST_IN_TEXT.test(line));
  const pinnedBy = baseDigest !== undefined ? `label ${BASE_DIGEST_LABEL}` : baseName !== undefined && DIGEST_IN_TEXT.test(baseName) ? `label ${BASE_NAME_LABEL}` : historyDigest !== undefined ? 'a digest in the image history' : undefined;
  const distribution = release?.values.get('PRETTY_NAME') ?? (release === undefined ? undefined : `${release.values.get('ID') ?? '?'} ${release.values.get('VERSION_ID') ?? ''}`.trim());
  if (release === undefined && baseName === undefined) {
    findings.push(baselineFinding('image-base-unidentified', { evidence: `no /etc/os-release and no ${BASE_NAME_LABEL} label`, location: at('base'), subject: 'base' }));
  }
  if (pinnedBy === undefined && (release !== undefined || baseName !== undefined)) {
    findings.push(baselineFinding('image-base-unpinned', { evidence: `base ${baseName ?? distribution ?? 'unknown'}: no ${BASE_DIGEST_LABEL} label and no @sha256: digest in its name or history`, location: at(`config.Labels`), subject: 'base' }));
  }
  const markers = [release?.text ?? '', baseName ?? ''].join('\n').toLowerCase();
  const distroless = lists.distrolessMarkers.some((marker) => markers.includes(marker));
  if (distroless) {
    for (const path of lists.distrolessShells) {
      if (isExecutableFile(fs.get(path))) findings.push(baselineFinding('image-shell-in-distroless', { evidence: `/${path} in a distroless image`, location: at(`/${path}`), subject: path }));
    }
    for (const path of lists.packageManagers) {
      if (isExecutableFile(fs.get(path))) findings.push(baselineFinding('image-package-manager-left', { evidence: `/${path} in a distroless image`, location: at(`/${path}`), subject: path }));
    }
  }

  // Environment and history
  for (const entry of config.Env ?? []) {
    const issue = checkEnvironmentVariable(parseEnvironmentEntry(entry), input.ruleSet, lists);
    if (issue === undefined) continue;
    const location = at(`config.Env ${issue.name}`);
    if (issue.kind === 'default-credential') findings.push(baselineFinding('image-default-credential', { evidence: describeEnvironmentIssue(issue), location, subject: issue.name }));
    else if (issue.kind === 'secret') findings.push(baselineFinding('image-env-secret', { evidence: describeEnvironmentIssue(issue), location, subject: issue.fingerprint, severity: issue.severity }));
    else findings.push(baselineFinding('image-env-secret-literal', { evidence: describeEnvironmentIssue(issue), location, subject: issue.fingerprint }));
  }
  history.forEach((step, index) => {
    // Build arguments are recorded in RUN steps' created_by ("|1 NPM_TOKEN=… /bin/sh -c …").
    for (const match of scanText(step.created_by ?? '', input.ruleSet, { base64Depth: 1 })) {
      const fingerprint = secretFingerprint(match.rule.id, match.secret);
      findings.push(baselineFinding('image-env-secret', { evidence: `${redactSecret(match.secret)} looks like a ${match.rule.title} in a build step (secret rule ${match.rule.id}, fingerprint ${fingerprint.slice(0, 12)})`, location: at(`history[${index}]`), subject: fingerprint, severity: match.rule.severity }));
    }
  });

  // Secrets in files: also those a later layer deleted, which are still in the earlier blob.
  for (const secret of input.fileSecrets) {
    const current = fs.getOwn(secret.path);
    const present = current !== undefined && current.layer === secret.layer && current.kind === 'file';
    const evidence = `${secret.redacted} looks like a ${secret.title} at line ${secret.line} (secret rule ${secret.ruleId}, fingerprint ${secret.fingerprint.slice(0, 12)})${present ? '' : `; deleted or replaced in a later layer, but still in layer ${secret.layer + 1}`}`;
    findings.push(baselineFinding('image-file-secret', { evidence, location: at(`/${secret.path} (layer ${secret.layer + 1})`), subject: secret.fingerprint, severity: secret.severity }));
  }

  // setuid/setgid and world-writable
  const setuid: string[] = [];
  const worldWritable: string[] = [];
  for (const [path, node] of fs.walk()) {
    if (node.kind === 'symlink') continue;
    if ((node.kind === 'file' || node.kind === 'hardlink') && (node.mode & 0o6000) !== 0) setuid.push(`/${path}`);
    if ((node.mode & 0o002) !== 0 && !(node.kind === 'directory' && (node.mode & 0o1000) !== 0)) worldWritable.push(`/${path}`);
  }
  const sample = (paths: string[]) => `${paths.slice(0, 8).join(', ')}${paths.length > 8 ? `, and ${paths.length - 8} more` : ''}`;
  if (setuid.length > 0) findings.push(baselineFinding('image-setuid-files', { evidence: `${setuid.length} setuid/setgid file(s): ${sample(setuid)}`, location: at('filesystem'), subject: 'setuid' }));
  if (worldWritable.length > 0) findings.push(baselineFinding('image-world-writable', { evidence: `${worldWritable.length} world-writable path(s) without the sticky bit: ${sample(worldWritable)}`, location: at('filesystem'), subject: 'world-writable' }));

  const facts: Record<string, unknown> = {
    image: image.name ?? target,
    format: image.format,
    platform: image.config.os === undefined ? undefined : `${image.config.os}/${image.config.architecture ?? '?'}`,
    layers: image.layers.length,
    user: user.root ? `root (${config.User === undefined || config.User === '' ? 'no User set' : config.User})` : user.why,
    exposedPorts: ports,
    distribution: distribution ?? 'unknown (no os-release)',
    baseImage: baseName ?? 'not labelled',
    basePinnedBy: pinnedBy ?? 'nothing',
    distroless,
    packageDatabases: packages.databases,
    packages: packages.names.length,
    notes: image.notes,
  };
  return { findings, facts };
}
