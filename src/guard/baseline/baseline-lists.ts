import lists from './baseline-lists.json' with { type: 'json' };
import { isSeverity, type Severity } from '../severity.js';

/**
 * The lists the baseline checks use — administration ports, non-essential services, unneeded
 * packages and tools, distroless markers, dangerous capabilities, default credentials — are data
 * (baseline-lists.json), so a reviewer reads them without reading code.
 */
export interface AdminPort {
  readonly port: number;
  readonly service: string;
  readonly severity: Severity;
}

export interface NonEssentialService {
  readonly service: string;
  /** SSH servers are reported by their own rule (No SSH access). */
  readonly ssh: boolean;
  readonly severity: Severity;
  readonly paths: readonly string[];
  readonly packages: readonly string[];
}

export interface PackageCategory {
  readonly category: string;
  readonly severity: Severity;
  readonly pattern: RegExp;
}

export interface ToolCategory {
  readonly category: string;
  readonly severity: Severity;
  readonly names: readonly string[];
}

export interface BaselineLists {
  readonly adminPorts: ReadonlyMap<number, AdminPort>;
  readonly services: readonly NonEssentialService[];
  readonly unneededPackages: readonly PackageCategory[];
  readonly unneededTools: readonly ToolCategory[];
  readonly toolDirectories: readonly string[];
  readonly distrolessMarkers: readonly string[];
  readonly distrolessShells: readonly string[];
  readonly packageManagers: readonly string[];
  readonly dangerousCapabilities: ReadonlySet<string>;
  readonly defaultCredentialVariables: ReadonlyMap<string, readonly string[]>;
  readonly passwordName: RegExp;
  readonly defaultPasswords: ReadonlySet<string>;
  readonly defaultPairs: ReadonlySet<string>;
  readonly secretLikeName: RegExp;
  readonly notSecretNameSuffixes: readonly string[];
}

function severity(value: string | undefined, fallback: Severity): Severity {
  if (value === undefined) return fallback;
  if (!isSeverity(value)) throw new Error(`baseline-lists.json: "${value}" is not a severity`);
  return value;
}

function load(): BaselineLists {
  return Object.freeze({
    adminPorts: new Map(lists.adminPorts.map((entry) => [entry.port, { port: entry.port, service: entry.service, severity: severity(entry.severity, 'medium') }])),
    services: lists.services.map((entry) => ({
      service: entry.service,
      ssh: 'ssh' in entry && entry.ssh === true,
      severity: severity('severity' in entry ? entry.severity : undefined, 'high'),
      paths: entry.paths,
      packages: entry.packages,
    })),
    unneededPackages: lists.unneededPackages.map((entry) => ({ category: entry.category, severity: severity(entry.severity, 'medium'), pattern: new RegExp(entry.pattern) })),
    unneededTools: lists.unneededTools.map((entry) => ({ category: entry.category, severity: severity(entry.severity, 'medium'), names: entry.names })),
    toolDirectories: lists.toolDirectories,
    distrolessMarkers: lists.distroless.markers,
    distrolessShells: lists.distroless.shells,
    packageManagers: lists.distroless.packageManagers,
    dangerousCapabilities: new Set(lists.dangerousCapabilities),
    defaultCredentialVariables: new Map(lists.defaultCredentials.variables.map((entry) => [entry.name, entry.values.map((value) => value.toLowerCase())])),
    passwordName: new RegExp(lists.defaultCredentials.passwordNamePattern, 'i'),
    defaultPasswords: new Set(lists.defaultCredentials.values.map((value) => value.toLowerCase())),
    defaultPairs: new Set(lists.defaultCredentials.pairs.map((value) => value.toLowerCase())),
    secretLikeName: new RegExp(lists.secretLikeName, 'i'),
    notSecretNameSuffixes: lists.notSecretNameSuffixes,
  });
}

export const BASELINE_LISTS: BaselineLists = load();
