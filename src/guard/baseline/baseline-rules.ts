import type { PolicyReference } from '../policy-reference.js';
import type { Severity } from '../severity.js';
import { baselineFingerprint, IMMUTABLE_CONTAINERS, MINIMAL_BASE_IMAGES, NO_DEFAULT_CREDENTIALS, NO_NON_ESSENTIALS, NO_SSH_ACCESS, SECRETS_IN_ENVIRONMENT_SYSTEM, type BaselineFinding, type BaselineLocation } from './baseline-finding.js';

export type BaselineScanner = 'image' | 'dockerfile' | 'manifests';

/** One check: its stable id (SARIF ruleId, never renamed), default severity, fix and policy. */
export interface BaselineRule {
  readonly id: string;
  readonly scanners: readonly BaselineScanner[];
  readonly title: string;
  readonly severity: Severity;
  readonly policy: PolicyReference;
  readonly fix: string;
}

const rule = (id: string, scanners: BaselineScanner[], severity: Severity, policy: PolicyReference, title: string, fix: string): BaselineRule => Object.freeze({ id, scanners: Object.freeze(scanners), title, severity, policy, fix });

const SECRET_FIX = "Remove the value, rotate it (it is readable by anyone who can pull the image or read the file), and pass it at run time from the platform's encrypted environment variables or a secret store.";
const LITERAL_FIX = 'Give the variable its value at run time from the encrypted environment (Render environment groups, a Kubernetes Secret through secretKeyRef, compose secrets), not as a literal.';
const DEFAULT_CREDENTIAL_FIX = 'Generate a unique password per environment and pass it as a secret; the image or service must refuse to start without one.';
const IMAGE_PIN_FIX = 'Pin the image by digest (name:tag@sha256:…, e.g. from `docker buildx imagetools inspect`), and let a bot such as Renovate propose digest updates.';

/** Every baseline rule. Ids are stable: code-scanning UIs key alerts on them. */
export const BASELINE_RULES: readonly BaselineRule[] = Object.freeze([
  // Images
  rule('image-runs-as-root', ['image'], 'high', NO_SSH_ACCESS, 'Image runs as root', 'Create an unprivileged user and end the Dockerfile with `USER <uid>` (numeric, e.g. USER 10001), or start from a nonroot base image.'),
  rule('image-admin-port-exposed', ['image'], 'medium', NO_NON_ESSENTIALS, 'Image exposes an administration port', 'Remove the EXPOSE line; administer through the platform (dashboards and APIs), not a port in the container.'),
  rule('image-ssh-server', ['image'], 'high', NO_SSH_ACCESS, 'Image contains an SSH server', 'Remove the SSH server package (openssh-server, dropbear) from the image; use the platform\'s console or `kubectl exec` for break-glass access.'),
  rule('image-non-essential-service', ['image'], 'medium', NO_NON_ESSENTIALS, 'Image contains a non-essential service', 'Remove the service from the image: run one process per container, schedule jobs on the platform, not with cron or a supervisor inside it.'),
  rule('image-unneeded-package', ['image'], 'medium', NO_NON_ESSENTIALS, 'Image contains a package it does not need at run time', 'Build in one stage and copy only the artifacts into a slim or distroless final stage (multi-stage build), or purge the package in the same RUN that installed it.'),
  rule('image-unneeded-tool', ['image'], 'medium', NO_NON_ESSENTIALS, 'Image contains a tool it does not need at run time', 'Copy only the application into the final stage of a multi-stage build; leave compilers, downloaders and editors in the build stage.'),
  rule('image-shell-in-distroless', ['image'], 'medium', MINIMAL_BASE_IMAGES, 'Distroless image with a shell added', 'Do not copy a shell or busybox into a distroless image; use the `:debug` variant only to debug, never to deploy.'),
  rule('image-package-manager-left', ['image'], 'medium', MINIMAL_BASE_IMAGES, 'Distroless image with a package manager left behind', 'Install packages in a build stage and copy the files; the final distroless stage should not carry apt, dpkg, apk or pip.'),
  rule('image-package-count', ['image'], 'low', MINIMAL_BASE_IMAGES, 'Image has more packages than a minimal base', 'Start from a slim, alpine or distroless base, and install only what the application needs at run time (`--no-install-recommends`).'),
  rule('image-base-unidentified', ['image'], 'low', MINIMAL_BASE_IMAGES, 'Base image cannot be identified', 'Build from a standard base that carries /etc/os-release, and label the image with org.opencontainers.image.base.name and base.digest (docker buildx does with --provenance, or LABEL it).'),
  rule('image-base-unpinned', ['image'], 'low', MINIMAL_BASE_IMAGES, 'Base image not pinned by digest', 'Pin the base in the Dockerfile (FROM name:tag@sha256:…) and record it in the org.opencontainers.image.base.digest label.'),
  rule('image-env-secret', ['image'], 'high', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Secret in the image configuration\'s environment', SECRET_FIX),
  rule('image-env-secret-literal', ['image'], 'medium', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Credential variable with a value baked into the image', LITERAL_FIX),
  rule('image-file-secret', ['image'], 'high', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Secret in a file of the image', `${SECRET_FIX} A file deleted in a later layer is still in the earlier one: rebuild without it (use BuildKit secret mounts, RUN --mount=type=secret).`),
  rule('image-default-credential', ['image'], 'high', NO_DEFAULT_CREDENTIALS, 'Default credential in the image environment', DEFAULT_CREDENTIAL_FIX),
  rule('image-setuid-files', ['image'], 'low', NO_SSH_ACCESS, 'Image has setuid or setgid files', 'Strip the bits in the final stage (RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +) unless the application needs one.'),
  rule('image-world-writable', ['image'], 'low', IMMUTABLE_CONTAINERS, 'Image has world-writable files or directories', 'chmod o-w them in the Dockerfile; write only to mounted volumes or /tmp (sticky).'),
  // Dockerfiles
  rule('dockerfile-base-latest', ['dockerfile'], 'medium', MINIMAL_BASE_IMAGES, 'Base image is `latest` or untagged', `Name a release tag and digest: FROM debian:12-slim@sha256:…. ${IMAGE_PIN_FIX}`),
  rule('dockerfile-base-unpinned', ['dockerfile'], 'low', MINIMAL_BASE_IMAGES, 'Base image not pinned by digest', IMAGE_PIN_FIX),
  rule('dockerfile-user-root', ['dockerfile'], 'high', NO_SSH_ACCESS, 'Final stage runs as root', 'Add `USER <uid>` (numeric, non-zero) at the end of the final stage, after the steps that need root.'),
  rule('dockerfile-expose-admin-port', ['dockerfile'], 'medium', NO_NON_ESSENTIALS, 'EXPOSE of an administration port', 'Remove the EXPOSE line and the service behind it; administer through the platform.'),
  rule('dockerfile-add-url', ['dockerfile'], 'medium', IMMUTABLE_CONTAINERS, 'ADD from a URL', 'Use `ADD --checksum=sha256:… URL` (Dockerfile 1.6+), or RUN curl -fsSLo FILE URL && echo "SHA256  FILE" | sha256sum -c -, so a changed download fails the build.'),
  rule('dockerfile-secret', ['dockerfile'], 'high', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Secret in the Dockerfile', `${SECRET_FIX} For build-time secrets use RUN --mount=type=secret; ENV and ARG values are stored in the image.`),
  rule('dockerfile-secret-literal', ['dockerfile'], 'medium', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Credential variable with a literal value in ENV or ARG', `${LITERAL_FIX} ENV and ARG values are readable in the image history.`),
  rule('dockerfile-default-credential', ['dockerfile'], 'high', NO_DEFAULT_CREDENTIALS, 'Default credential in ENV or ARG', DEFAULT_CREDENTIAL_FIX),
  rule('dockerfile-apt-recommends', ['dockerfile'], 'low', NO_NON_ESSENTIALS, 'apt-get install without --no-install-recommends', 'Add --no-install-recommends (recommended packages are not needed to run) and clean /var/lib/apt/lists in the same RUN.'),
  rule('dockerfile-sudo', ['dockerfile'], 'medium', NO_NON_ESSENTIALS, 'sudo in the Dockerfile', 'Run the steps that need root before USER, as root; do not install or use sudo in an image.'),
  rule('dockerfile-chmod-world-writable', ['dockerfile'], 'medium', IMMUTABLE_CONTAINERS, 'chmod makes files world-writable', 'Grant the application user ownership (COPY --chown, chown) and a mode like 750/640 instead of 777/666.'),
  // Kubernetes and compose
  rule('k8s-privileged', ['manifests'], 'critical', NO_SSH_ACCESS, 'Privileged container', 'Remove securityContext.privileged; add only the capability the container needs, if any.'),
  rule('k8s-privilege-escalation', ['manifests'], 'medium', NO_SSH_ACCESS, 'allowPrivilegeEscalation is not false', 'Set securityContext.allowPrivilegeEscalation: false on every container.'),
  rule('k8s-run-as-root', ['manifests'], 'high', NO_SSH_ACCESS, 'Container runs as uid 0', 'Set securityContext.runAsUser to a non-zero uid (and runAsNonRoot: true).'),
  rule('k8s-run-as-non-root-missing', ['manifests'], 'medium', NO_SSH_ACCESS, 'runAsNonRoot is not true', 'Set securityContext.runAsNonRoot: true (pod or container), so the kubelet refuses to start the container as root.'),
  rule('k8s-writable-root-filesystem', ['manifests'], 'medium', IMMUTABLE_CONTAINERS, 'Root filesystem is writable', 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application must write.'),
  rule('k8s-host-namespace', ['manifests'], 'high', NO_SSH_ACCESS, 'Pod shares a host namespace', 'Remove hostNetwork, hostPID and hostIPC; expose ports through a Service.'),
  rule('k8s-host-path', ['manifests'], 'high', NO_SSH_ACCESS, 'hostPath volume', 'Use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume instead of a path on the node.'),
  rule('k8s-capabilities-added', ['manifests'], 'high', NO_SSH_ACCESS, 'Dangerous Linux capability added', 'Drop ALL capabilities and add back only narrow ones (NET_BIND_SERVICE), never SYS_ADMIN, NET_ADMIN or ALL.'),
  rule('k8s-secret-in-manifest', ['manifests'], 'high', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Kubernetes Secret with its values in the manifest', 'Keep Secret values out of the repository: create them from the secret store (External Secrets, Sealed Secrets, SOPS) and rotate the ones committed.'),
  rule('manifest-admin-port', ['manifests'], 'medium', NO_NON_ESSENTIALS, 'Container publishes an administration port', 'Remove the port and the service behind it; administer through the platform.'),
  rule('manifest-image-latest', ['manifests'], 'medium', IMMUTABLE_CONTAINERS, 'Image is `latest` or untagged', `Name a release tag and digest. ${IMAGE_PIN_FIX}`),
  rule('manifest-image-unpinned', ['manifests'], 'low', IMMUTABLE_CONTAINERS, 'Image not pinned by digest', `A tag can be moved to another image after deployment. ${IMAGE_PIN_FIX}`),
  rule('manifest-env-secret', ['manifests'], 'high', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Secret in an environment value', `${SECRET_FIX} Reference it with valueFrom.secretKeyRef (Kubernetes) or compose secrets.`),
  rule('manifest-env-secret-literal', ['manifests'], 'medium', SECRETS_IN_ENVIRONMENT_SYSTEM, 'Credential variable with a literal value', LITERAL_FIX),
  rule('manifest-default-credential', ['manifests'], 'high', NO_DEFAULT_CREDENTIALS, 'Default credential in the environment', DEFAULT_CREDENTIAL_FIX),
  rule('compose-privileged', ['manifests'], 'critical', NO_SSH_ACCESS, 'Privileged compose service', 'Remove `privileged: true`; add only the capability the service needs with cap_add, if any.'),
  rule('compose-host-namespace', ['manifests'], 'high', NO_SSH_ACCESS, 'Compose service shares a host namespace', 'Remove network_mode/pid/ipc: host; publish the ports the service needs.'),
  rule('compose-capabilities-added', ['manifests'], 'high', NO_SSH_ACCESS, 'Dangerous Linux capability added', 'Remove SYS_ADMIN, NET_ADMIN and ALL from cap_add; add cap_drop: [ALL].'),
  rule('compose-runs-as-root', ['manifests'], 'high', NO_SSH_ACCESS, 'Compose service runs as root', 'Set `user:` to a non-zero uid (e.g. user: "10001:10001"), or leave it out when the image\'s own USER is not root.'),
  rule('compose-writable-root-filesystem', ['manifests'], 'medium', IMMUTABLE_CONTAINERS, 'Compose service has a writable root filesystem', 'Set `read_only: true` and mount a tmpfs (tmpfs: [/tmp]) or a volume where the service must write.'),
]);

const BY_ID = new Map(BASELINE_RULES.map((entry) => [entry.id, entry]));

export function baselineRule(id: string): BaselineRule {
  const found = BY_ID.get(id);
  if (found === undefined) throw new Error(`no baseline rule "${id}"`);
  return found;
}

export function rulesFor(scanner: BaselineScanner): BaselineRule[] {
  return BASELINE_RULES.filter((entry) => entry.scanners.includes(scanner));
}

export interface FindingDetails {
  readonly evidence: string;
  readonly location: BaselineLocation;
  /** What the finding is about, for the fingerprint: a package, a port, a variable name, a secret's fingerprint. */
  readonly subject: string;
  readonly severity?: Severity;
  readonly policy?: PolicyReference;
  /** Appended to the rule's fix. */
  readonly fixDetail?: string;
}

export function baselineFinding(ruleId: string, details: FindingDetails): BaselineFinding {
  const entry = baselineRule(ruleId);
  return Object.freeze({
    ruleId,
    title: entry.title,
    severity: details.severity ?? entry.severity,
    evidence: details.evidence,
    fix: details.fixDetail === undefined ? entry.fix : `${details.fixDetail} ${entry.fix}`,
    policy: details.policy ?? entry.policy,
    location: details.location,
    fingerprint: baselineFingerprint(ruleId, details.location, details.subject),
  });
}
