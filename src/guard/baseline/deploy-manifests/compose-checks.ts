import { baselineFinding } from '../baseline-rules.js';
import { substituteVariables } from '../dockerfile/dockerfile-parser.js';
import { checkImageReference, checkPort, checkVariable, dangerousCapabilities, type ContainerCheckContext } from './container-checks.js';
import { isRecord, type ManifestDocument } from './manifest-documents.js';

/**
 * Compose file checks (the Compose Specification, compose-spec.io): each service's privileged,
 * network_mode/pid/ipc: host, cap_add, user, read_only, published ports (short "8080:80/tcp" and
 * long { target } syntax), environment (map or "KEY=value" list) and image. A service without
 * `user:` runs as its image's USER, which the file does not say (`scan image` and `scan
 * dockerfile` judge it), so only a `user:` naming root is a finding; `read_only` defaults to false
 * (the spec's "read_only: configures the service container to be created with a read-only
 * filesystem"), so its absence is one, as readOnlyRootFilesystem's is for Kubernetes. `${VAR:-default}` is read as its
 * default — what runs when the variable is not set — and `${VAR}` as a value from elsewhere.
 */
export function isComposeFile(value: unknown): value is { services: Record<string, unknown> } {
  return isRecord(value) && isRecord(value.services) && value.apiVersion === undefined;
}

const NO_VALUES: ReadonlyMap<string, string> = new Map();

/** The container port of a short-syntax port: "127.0.0.1:2222:22/tcp" → [22, 22]; ranges as [low, high]. */
function containerPorts(written: string): [number, number] | undefined {
  const target = written.split('/')[0]!.split(':').at(-1)!;
  const match = /^(\d+)(?:-(\d+))?$/.exec(target);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2] ?? match[1])];
}

export function checkComposeFile(document: ManifestDocument, context: ContainerCheckContext): number {
  if (!isComposeFile(document.value)) return 0;
  let services = 0;
  for (const [serviceName, service] of Object.entries(document.value.services)) {
    if (!isRecord(service)) continue;
    services++;
    const where = `service ${serviceName}`;
    const at = (path: readonly (string | number)[], within = where) => ({ path: document.file, line: document.lineOf(['services', serviceName, ...path]), within });
    if (service.privileged === true) context.findings.push(baselineFinding('compose-privileged', { evidence: 'privileged: true', location: at(['privileged']), subject: `${where} privileged` }));
    for (const field of ['network_mode', 'pid', 'ipc'] as const) {
      if (service[field] === 'host') context.findings.push(baselineFinding('compose-host-namespace', { evidence: `${field}: host`, location: at([field]), subject: `${where} ${field}` }));
    }
    if (typeof service.user === 'string' || typeof service.user === 'number') {
      const uid = String(service.user).split(':')[0]!.trim();
      if (uid === '0' || uid === 'root') context.findings.push(baselineFinding('compose-runs-as-root', { evidence: `user: ${String(service.user)}`, location: at(['user']), subject: `${where} user` }));
    }
    if (service.read_only !== true) context.findings.push(baselineFinding('compose-writable-root-filesystem', { evidence: service.read_only === false ? 'read_only: false' : 'read_only is not set (defaults to false)', location: at(service.read_only === undefined ? [] : ['read_only']), subject: `${where} read_only` }));
    for (const capability of dangerousCapabilities(service.cap_add, context.lists)) {
      context.findings.push(baselineFinding('compose-capabilities-added', { evidence: `cap_add: ${capability}`, location: at(['cap_add']), subject: `${where} ${capability}` }));
    }
    if (typeof service.image === 'string') checkImageReference(substituteVariables(service.image, NO_VALUES), at(['image']), context);
    if (Array.isArray(service.ports)) {
      service.ports.forEach((port, index) => {
        const written = isRecord(port) ? String(port.target) : String(port);
        const range = containerPorts(written);
        if (range === undefined) return;
        for (const admin of context.lists.adminPorts.keys()) if (admin >= range[0] && admin <= range[1]) checkPort(admin, `"${written}"`, at(['ports', index]), context);
      });
    }
    const environment = service.environment;
    const variables: Array<[string, string, string | number]> = [];
    if (Array.isArray(environment)) {
      environment.forEach((entry, index) => {
        const text = String(entry);
        const equals = text.indexOf('=');
        if (equals > 0) variables.push([text.slice(0, equals), text.slice(equals + 1), index]);
      });
    } else if (isRecord(environment)) {
      for (const [name, value] of Object.entries(environment)) if (typeof value === 'string' || typeof value === 'number') variables.push([name, String(value), name]);
    }
    for (const [name, value, key] of variables) checkVariable(name, substituteVariables(value, NO_VALUES), at(['environment', key], `${where} environment ${name}`), context);
  }
  return services;
}
