import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { ConfigItem } from '../config-item.js';
import { attributeRecord, isRecord, numberOf, stringSet, textOf } from '../attribute-values.js';
import { checkDockerfile } from '../../baseline/dockerfile/dockerfile-checks.js';
import { hasUnresolvedVariable, imagePinning, parseImageReference } from '../../baseline/image-reference.js';
import { scanImage } from '../../baseline/image/image-scan.js';
import { isComposeFile } from '../../baseline/deploy-manifests/compose-checks.js';
import { CONTAINER_LISTS, isKubernetesObject, POD_TEMPLATE_PATHS } from '../../baseline/deploy-manifests/kubernetes-checks.js';
import { findManifestFiles, readManifestDocuments, relativeName } from '../../baseline/deploy-manifests/manifest-documents.js';
import type { BaselineProblem } from '../../baseline/baseline-report.js';
import { loadSecretRules } from '../../secrets/secret-rules.js';
import { valueFingerprint } from './env-collector.js';

/**
 * Containers as items, read with part 1's readers (src/guard/baseline): an image archive's
 * configuration (user, exposed ports, base), a Dockerfile's final stage, and each container of a
 * Kubernetes workload or compose service (image reference and how it is pinned, security
 * context, ports, environment names with value fingerprints — never values).
 */
function pinning(image: string | undefined): { image: string | null; pinning: string; digestPinned: boolean } {
  if (image === undefined) return { image: null, pinning: 'unknown', digestPinned: false };
  if (hasUnresolvedVariable(image)) return { image, pinning: 'unresolved', digestPinned: false };
  const reference = parseImageReference(image);
  const pinned = reference === undefined ? 'unknown' : imagePinning(reference);
  return { image, pinning: pinned, digestPinned: pinned === 'digest' };
}

export async function imageItems(path: string, source: string): Promise<ConfigItem[]> {
  // Secrets in image files are part 1's scan; here only the configuration is wanted, so no file is read for them.
  const result = await scanImage(path, { ruleSet: loadSecretRules(), maxFileBytes: 1, maxPackages: Number.MAX_SAFE_INTEGER });
  const facts = result.facts;
  const name = typeof facts.image === 'string' ? facts.image : result.target;
  const root = result.findings.some((finding) => finding.ruleId === 'image-runs-as-root');
  return [
    Object.freeze({
      component: 'container' as const,
      resourceId: `image:${name}`,
      kind: 'image',
      source,
      attributes: attributeRecord({
        ...pinning(name),
        user: typeof facts.user === 'string' ? facts.user : null,
        runsAsRoot: root,
        exposedPorts: stringSet(Array.isArray(facts.exposedPorts) ? facts.exposedPorts.map(String) : []),
        baseImage: facts.baseImage ?? null,
        basePinnedBy: facts.basePinnedBy ?? null,
        distribution: facts.distribution ?? null,
        platform: facts.platform ?? null,
      }),
    }),
  ];
}

export function dockerfileItems(path: string, source: string): ConfigItem[] {
  const result = checkDockerfile(readFileSync(path, 'utf8'), source, { ruleSet: loadSecretRules() });
  const final = result.stages.at(-1);
  const baseImages = result.stages.map((stage) => stage.image).filter((image) => !result.stages.some((stage) => stage.name !== undefined && stage.name === image));
  return [
    Object.freeze({
      component: 'container' as const,
      resourceId: `dockerfile:${source}`,
      kind: 'dockerfile',
      source,
      attributes: attributeRecord({
        ...pinning(final?.image),
        baseImages: stringSet(baseImages),
        unpinnedBaseImages: stringSet(baseImages.filter((image) => !pinning(image).digestPinned && image.toLowerCase() !== 'scratch')),
        runsAsRoot: result.findings.some((finding) => finding.ruleId === 'dockerfile-user-root'),
      }),
    }),
  ];
}

function environment(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (isRecord(entry) && typeof entry.name === 'string') {
        // valueFrom names where the value comes from, which is configuration, not a secret.
        out[entry.name] = entry.value !== undefined ? valueFingerprint(textOf(entry.value)) : isRecord(entry.valueFrom) ? `from:${Object.keys(entry.valueFrom).sort().join(',')}` : valueFingerprint('');
      } else if (typeof entry === 'string') {
        const equals = entry.indexOf('=');
        if (equals > 0) out[entry.slice(0, equals)] = valueFingerprint(entry.slice(equals + 1));
        else out[entry] = 'from:host';
      }
    }
  } else if (isRecord(value)) {
    for (const [name, entry] of Object.entries(value)) out[name] = entry === null ? 'from:host' : valueFingerprint(textOf(entry));
  }
  return out;
}

function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function kubernetesContainers(object: Record<string, unknown>, file: string, source: string, out: ConfigItem[]): void {
  const kind = String(object.kind);
  if (kind === 'List' && Array.isArray(object.items)) {
    for (const item of object.items) if (isKubernetesObject(item)) kubernetesContainers(item, file, source, out);
    return;
  }
  const podPath = POD_TEMPLATE_PATHS[kind];
  const pod = podPath === undefined ? undefined : getPath(object, podPath);
  if (!isRecord(pod)) return;
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const workload = `${typeof metadata.namespace === 'string' ? metadata.namespace : 'default'}/${kind}/${typeof metadata.name === 'string' ? metadata.name : '(unnamed)'}`;
  const podSecurity = isRecord(pod.securityContext) ? pod.securityContext : {};
  for (const list of CONTAINER_LISTS) {
    for (const container of Array.isArray(pod[list]) ? pod[list] : []) {
      if (!isRecord(container)) continue;
      const security = isRecord(container.securityContext) ? container.securityContext : {};
      const runAsUser = numberOf(security.runAsUser ?? podSecurity.runAsUser);
      const runAsNonRoot = (security.runAsNonRoot ?? podSecurity.runAsNonRoot) === true;
      out.push(
        Object.freeze({
          component: 'container' as const,
          resourceId: `k8s:${workload}/${typeof container.name === 'string' ? container.name : '(unnamed)'}`,
          kind: 'k8s_container',
          source,
          attributes: attributeRecord({
            file,
            containerList: list,
            ...pinning(typeof container.image === 'string' ? container.image : undefined),
            runAsUser: runAsUser ?? null,
            runAsNonRoot,
            runsAsRoot: runAsUser === 0 ? true : runAsNonRoot || (runAsUser !== undefined && runAsUser > 0) ? false : 'unknown',
            privileged: security.privileged === true,
            allowPrivilegeEscalation: security.allowPrivilegeEscalation !== false,
            readOnlyRootFilesystem: security.readOnlyRootFilesystem === true,
            ports: (Array.isArray(container.ports) ? container.ports : []).map((port) => (isRecord(port) ? numberOf(port.containerPort) : undefined)).filter((port): port is number => port !== undefined).sort((a, b) => a - b),
            environment: environment(container.env),
          }),
        }),
      );
    }
  }
}

function composeServices(value: { services: Record<string, unknown> }, file: string, source: string, out: ConfigItem[]): void {
  for (const [name, service] of Object.entries(value.services)) {
    if (!isRecord(service)) continue;
    const user = typeof service.user === 'string' || typeof service.user === 'number' ? String(service.user) : undefined;
    const uid = user?.split(':')[0]?.trim();
    out.push(
      Object.freeze({
        component: 'container' as const,
        resourceId: `compose:${file}/${name}`,
        kind: 'compose_service',
        source,
        attributes: attributeRecord({
          file,
          ...pinning(typeof service.image === 'string' ? service.image : undefined),
          user: user ?? null,
          runsAsRoot: uid === undefined ? 'unknown' : uid === '0' || uid === 'root',
          privileged: service.privileged === true,
          ports: stringSet((Array.isArray(service.ports) ? service.ports : []).map((port) => (isRecord(port) ? `${textOf(port.published ?? '')}:${textOf(port.target)}` : String(port)))),
          environment: environment(service.environment),
        }),
      }),
    );
  }
}

/** Items for every container in the YAML files under `path`; unreadable files go to `problems`. */
export function manifestItems(path: string, sourceBase: string, problems: BaselineProblem[]): ConfigItem[] {
  const absolute = resolve(path);
  const out: ConfigItem[] = [];
  for (const file of findManifestFiles(absolute)) {
    const name = relativeName(resolve(sourceBase), file);
    const source = relative(resolve(sourceBase), file).split('\\').join('/') || name;
    for (const document of readManifestDocuments(file, name, problems)) {
      if (isKubernetesObject(document.value)) kubernetesContainers(document.value, name, source, out);
      else if (isComposeFile(document.value)) composeServices(document.value, name, source, out);
    }
  }
  return out;
}
