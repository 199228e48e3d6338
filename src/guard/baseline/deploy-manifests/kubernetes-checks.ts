import { baselineFinding } from '../baseline-rules.js';
import { checkImageReference, checkPort, checkVariable, dangerousCapabilities, type ContainerCheckContext } from './container-checks.js';
import { isRecord, type ManifestDocument } from './manifest-documents.js';

/**
 * Kubernetes workload checks (Pod Security Standards, kubernetes.io/docs/concepts/security/
 * pod-security-standards/, restricted profile, where the policy has a sentence for them): pod
 * templates are found in Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
 * ReplicationControllers, Jobs and CronJobs, also inside a List. Container settings inherit the
 * pod's securityContext (runAsUser, runAsNonRoot) as the kubelet applies it.
 */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
const HOST_NAMESPACES = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

export function isKubernetesObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string';
}

function getPath(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number' ? !Array.isArray(current) : !isRecord(current)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Checks one Kubernetes object (a List's items each in turn); returns how many workloads it held. */
export function checkKubernetesObject(document: ManifestDocument, context: ContainerCheckContext, base: readonly (string | number)[] = []): number {
  const object = getPath(document.value, base);
  if (!isKubernetesObject(object)) return 0;
  const kind = object.kind as string;
  if (kind === 'List' && Array.isArray(object.items)) return object.items.reduce<number>((sum, _, index) => sum + checkKubernetesObject(document, context, [...base, 'items', index]), 0);
  const name = `${kind}/${isRecord(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(unnamed)'}`;
  const at = (path: readonly (string | number)[], within: string) => ({ path: document.file, line: document.lineOf([...base, ...path]), within });
  if (kind === 'Secret') {
    const keys = [...Object.keys(isRecord(object.data) ? object.data : {}), ...Object.keys(isRecord(object.stringData) ? object.stringData : {})];
    if (keys.length > 0) context.findings.push(baselineFinding('k8s-secret-in-manifest', { evidence: `${name} holds ${keys.length} value(s): ${keys.slice(0, 6).join(', ')}`, location: at(isRecord(object.stringData) ? ['stringData'] : ['data'], name), subject: name }));
    return 0;
  }
  const podPath = POD_TEMPLATE_PATHS[kind];
  if (podPath === undefined) return 0;
  const pod = getPath(object, podPath);
  if (!isRecord(pod)) return 0;
  for (const field of HOST_NAMESPACES) {
    if (pod[field] === true) context.findings.push(baselineFinding('k8s-host-namespace', { evidence: `${field}: true`, location: at([...podPath, field], name), subject: `${name} ${field}` }));
  }
  if (Array.isArray(pod.volumes)) {
    pod.volumes.forEach((volume, index) => {
      if (isRecord(volume) && isRecord(volume.hostPath)) context.findings.push(baselineFinding('k8s-host-path', { evidence: `volume ${String(volume.name)} mounts ${String(volume.hostPath.path)} from the node`, location: at([...podPath, 'volumes', index], name), subject: `${name} ${String(volume.name)}` }));
    });
  }
  const podContext = isRecord(pod.securityContext) ? pod.securityContext : {};
  for (const list of CONTAINER_LISTS) {
    const containers = pod[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((container, index) => {
      if (!isRecord(container)) return;
      const path = [...podPath, list, index];
      const where = `${name} container ${typeof container.name === 'string' ? container.name : index}`;
      const subject = (what: string) => `${where} ${what}`;
      const security = isRecord(container.securityContext) ? container.securityContext : {};
      const securityPath = [...path, 'securityContext'];
      if (security.privileged === true) context.findings.push(baselineFinding('k8s-privileged', { evidence: 'securityContext.privileged: true', location: at([...securityPath, 'privileged'], where), subject: subject('privileged') }));
      if (security.allowPrivilegeEscalation !== false) context.findings.push(baselineFinding('k8s-privilege-escalation', { evidence: security.allowPrivilegeEscalation === true ? 'allowPrivilegeEscalation: true' : 'allowPrivilegeEscalation is not set (defaults to true)', location: at([...securityPath, 'allowPrivilegeEscalation'], where), subject: subject('allowPrivilegeEscalation') }));
      const runAsUser = security.runAsUser ?? podContext.runAsUser;
      const runAsNonRoot = security.runAsNonRoot ?? podContext.runAsNonRoot;
      if (runAsUser === 0) context.findings.push(baselineFinding('k8s-run-as-root', { evidence: `runAsUser: 0${security.runAsUser === undefined ? ' (from the pod securityContext)' : ''}`, location: at(security.runAsUser === undefined ? [...podPath, 'securityContext', 'runAsUser'] : [...securityPath, 'runAsUser'], where), subject: subject('runAsUser') }));
      else if (runAsNonRoot === false || (runAsNonRoot !== true && !(typeof runAsUser === 'number' && runAsUser > 0))) {
        context.findings.push(baselineFinding('k8s-run-as-non-root-missing', { evidence: runAsNonRoot === false ? 'runAsNonRoot: false' : 'neither runAsNonRoot: true nor a non-zero runAsUser (container or pod)', location: at(securityPath, where), subject: subject('runAsNonRoot') }));
      }
      if (security.readOnlyRootFilesystem !== true) context.findings.push(baselineFinding('k8s-writable-root-filesystem', { evidence: security.readOnlyRootFilesystem === false ? 'readOnlyRootFilesystem: false' : 'readOnlyRootFilesystem is not set (defaults to false)', location: at([...securityPath, 'readOnlyRootFilesystem'], where), subject: subject('readOnlyRootFilesystem') }));
      const capabilities = isRecord(security.capabilities) ? security.capabilities : {};
      for (const capability of dangerousCapabilities(capabilities.add, context.lists)) {
        context.findings.push(baselineFinding('k8s-capabilities-added', { evidence: `capabilities.add: ${capability}`, location: at([...securityPath, 'capabilities', 'add'], where), subject: subject(capability) }));
      }
      checkImageReference(container.image, at([...path, 'image'], where), context);
      if (Array.isArray(container.ports)) {
        container.ports.forEach((port, portIndex) => {
          if (isRecord(port) && typeof port.containerPort === 'number') checkPort(port.containerPort, `containerPort ${port.containerPort}`, at([...path, 'ports', portIndex], where), context);
        });
      }
      if (Array.isArray(container.env)) {
        container.env.forEach((variable, envIndex) => {
          // valueFrom (secretKeyRef, configMapKeyRef) is where values should come from.
          if (isRecord(variable) && typeof variable.name === 'string' && (typeof variable.value === 'string' || typeof variable.value === 'number')) {
            checkVariable(variable.name, String(variable.value), at([...path, 'env', envIndex], `${where} env ${variable.name}`), context);
          }
        });
      }
    });
  }
  return 1;
}
