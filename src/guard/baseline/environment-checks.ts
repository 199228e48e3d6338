import { redactSecret, secretFingerprint } from '../secrets/secret-finding.js';
import type { SecretRuleSet } from '../secrets/secret-rules.js';
import { scanText } from '../secrets/secret-scanner.js';
import type { Severity } from '../severity.js';
import { BASELINE_LISTS, type BaselineLists } from './baseline-lists.js';

/**
 * Environment variables as images, Dockerfiles, Kubernetes and compose files set them, checked
 * three ways: a default credential (POSTGRES_PASSWORD=postgres, admin/admin, a password of
 * "changeme"), a secret the secret scanner recognises in `NAME=value`, and a literal value given
 * to a credential-named variable (DB_PASSWORD=…) that should come from a secret store. Values are
 * never returned: only a redacted prefix and a fingerprint.
 */
export interface EnvironmentVariable {
  readonly name: string;
  readonly value: string;
}

export type EnvironmentIssue =
  | { readonly kind: 'default-credential'; readonly name: string; readonly why: string }
  | { readonly kind: 'secret'; readonly name: string; readonly severity: Severity; readonly secretRuleId: string; readonly secretTitle: string; readonly redacted: string; readonly fingerprint: string }
  | { readonly kind: 'literal'; readonly name: string; readonly redacted: string; readonly fingerprint: string };

/** `$VAR`, `${VAR}`, `${VAR:-x}`, `$(VAR)` (Kubernetes): the value comes from elsewhere. */
const REFERENCE = /^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[^}]+\}|\([A-Za-z_][A-Za-z0-9_]*\))$/;
const NOT_A_SECRET_VALUE = /^(?:true|false|yes|no|on|off|none|null|enabled|disabled|\d{1,6}|\/\S*)$/i;

/** `scheme://user:password@host` (the secret scanner treats "password" as a placeholder). */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@/\s]+)@/;

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function credentialNamed(name: string, pattern: RegExp, lists: BaselineLists): boolean {
  const upper = name.toUpperCase();
  return pattern.test(upper) && !lists.notSecretNameSuffixes.some((suffix) => upper.endsWith(suffix));
}

function defaultCredential(variable: EnvironmentVariable, lists: BaselineLists): string | undefined {
  const value = variable.value.trim().toLowerCase();
  const known = lists.defaultCredentialVariables.get(variable.name.toUpperCase());
  if (known?.includes(value) === true) return `${variable.name} is set to the image's documented default`;
  if (credentialNamed(variable.name, lists.passwordName, lists) && lists.defaultPasswords.has(value)) return `${variable.name} is set to a well-known default password`;
  if (lists.defaultPairs.has(value)) return `${variable.name} is a well-known default user/password pair`;
  const urlPassword = URL_PASSWORD.exec(value)?.[1];
  if (urlPassword !== undefined && lists.defaultPasswords.has(decodeURIComponentSafe(urlPassword))) return `${variable.name} is a URL with a well-known default password`;
  return undefined;
}

export function checkEnvironmentVariable(variable: EnvironmentVariable, ruleSet: SecretRuleSet, lists: BaselineLists = BASELINE_LISTS): EnvironmentIssue | undefined {
  const value = variable.value.trim();
  if (value === '' || REFERENCE.test(value)) return undefined;
  const defaulted = defaultCredential(variable, lists);
  if (defaulted !== undefined) return { kind: 'default-credential', name: variable.name, why: defaulted };
  const match = scanText(`${variable.name}=${value}`, ruleSet, { base64Depth: 1 })[0];
  if (match !== undefined) {
    return { kind: 'secret', name: variable.name, severity: match.rule.severity, secretRuleId: match.rule.id, secretTitle: match.rule.title, redacted: redactSecret(match.secret), fingerprint: secretFingerprint(match.rule.id, match.secret) };
  }
  if (credentialNamed(variable.name, lists.secretLikeName, lists) && !NOT_A_SECRET_VALUE.test(value) && !ruleSet.placeholders.some((placeholder) => placeholder.test(value))) {
    return { kind: 'literal', name: variable.name, redacted: redactSecret(value), fingerprint: secretFingerprint('literal', value) };
  }
  return undefined;
}

/** The evidence line for an issue: never the value, at most a redacted prefix. */
export function describeEnvironmentIssue(issue: EnvironmentIssue): string {
  switch (issue.kind) {
    case 'default-credential':
      return issue.why;
    case 'secret':
      return `${issue.name}=${issue.redacted} looks like a ${issue.secretTitle} (secret rule ${issue.secretRuleId}, fingerprint ${issue.fingerprint.slice(0, 12)})`;
    case 'literal':
      return `${issue.name}=${issue.redacted} is a credential given as a literal value`;
  }
}

/** Splits Docker's `NAME=value` environment strings (config.Env, compose lists). */
export function parseEnvironmentEntry(entry: string): EnvironmentVariable {
  const equals = entry.indexOf('=');
  return equals === -1 ? { name: entry, value: '' } : { name: entry.slice(0, equals), value: entry.slice(equals + 1) };
}
