import { secretFingerprint, redactSecret } from '../../secrets/secret-finding.js';
import type { SecretRuleSet } from '../../secrets/secret-rules.js';
import { scanText } from '../../secrets/secret-scanner.js';
import { NO_SSH_ACCESS, type BaselineFinding } from '../baseline-finding.js';
import { BASELINE_LISTS, type BaselineLists } from '../baseline-lists.js';
import { baselineFinding } from '../baseline-rules.js';
import { checkEnvironmentVariable, describeEnvironmentIssue } from '../environment-checks.js';
import { hasUnresolvedVariable, imagePinning, parseImageReference } from '../image-reference.js';
import { parseDockerfile, parseKeyValues, splitWords, substituteVariables, type DockerfileInstruction } from './dockerfile-parser.js';

export interface DockerfileCheckOptions {
  readonly ruleSet: SecretRuleSet;
  /** `--build-arg NAME=value`: overrides ARG defaults, as `docker build --build-arg` does. */
  readonly buildArgs?: ReadonlyMap<string, string>;
  readonly lists?: BaselineLists;
}

export interface DockerfileCheckResult {
  readonly findings: BaselineFinding[];
  readonly stages: ReadonlyArray<{ readonly name?: string; readonly image: string; readonly line: number }>;
  /** FROM lines whose image has a variable no ARG gives a value: not judged. */
  readonly unresolved: readonly number[];
}

interface Stage {
  readonly name?: string;
  readonly image: string;
  readonly line: number;
  /** USER as last set in the stage, or inherited from the stage it builds on. */
  user?: { value: string; line: number };
  /** The base is another stage, or an image whose tag says it runs as non-root. */
  readonly baseNonRoot: boolean;
  readonly args: Map<string, string>;
}

/** Split a shell command line into simple commands (`&&`, `||`, `;`, `|`, newlines). */
function commands(script: string): string[] {
  return script.split(/&&|\|\||[;|\n]/).map((command) => command.trim()).filter((command) => command !== '');
}

const APT_INSTALL = /\bapt(?:-get)?\s+(?:\S+\s+)*install\b/;
const SUDO = /(?:^|[\s(`])sudo(?:\s|$)/;
const CHMOD_OCTAL = /\bchmod\s+(?:-\S+\s+)*0*([0-7]{3,4})\b/;
const CHMOD_SYMBOLIC = /\bchmod\s+(?:-\S+\s+)*((?:[ugoa]*[+=][rwxXst]*,?)+)(?:\s|$)/;

function worldWritableMode(command: string): string | undefined {
  const octal = CHMOD_OCTAL.exec(command)?.[1];
  if (octal !== undefined) {
    const others = Number(octal.at(-1));
    const sticky = octal.length === 4 && (Number(octal[0]) & 1) === 1;
    return (others & 2) !== 0 && !sticky ? octal : undefined;
  }
  const symbolic = CHMOD_SYMBOLIC.exec(command)?.[1];
  // `o+w`, `a+rwx`, `go=rw`: the clause names others (o or a) and grants w. A bare `+w` is
  // filtered by the umask, so it does not reach others.
  return symbolic?.split(',').some((clause) => /^[ugoa]*[oa][ugoa]*[+=][rwxXst]*w/.test(clause)) === true ? symbolic : undefined;
}

/** The exec (JSON array) form of ADD/COPY, or undefined. */
function jsonArray(args: string): unknown[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  try {
    const parsed = JSON.parse(args) as unknown;
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Every Dockerfile check over one file's text; `path` is how findings name the file. */
export function checkDockerfile(text: string, path: string, options: DockerfileCheckOptions): DockerfileCheckResult {
  const lists = options.lists ?? BASELINE_LISTS;
  const dockerfile = parseDockerfile(text);
  const findings: BaselineFinding[] = [];
  const at = (line: number, within?: string) => ({ path, line, ...(within === undefined ? {} : { within }) });
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  const unresolved: number[] = [];
  const reportedSecrets = new Set<string>();

  const environment = (instruction: DockerfileInstruction, name: string, value: string) => {
    const issue = checkEnvironmentVariable({ name, value }, options.ruleSet, lists);
    if (issue === undefined) return;
    const location = at(instruction.line, `${instruction.keyword} ${name}`);
    if (issue.kind === 'default-credential') findings.push(baselineFinding('dockerfile-default-credential', { evidence: describeEnvironmentIssue(issue), location, subject: name }));
    else if (issue.kind === 'secret') {
      reportedSecrets.add(`${instruction.line}\0${issue.fingerprint}`);
      findings.push(baselineFinding('dockerfile-secret', { evidence: describeEnvironmentIssue(issue), location, subject: issue.fingerprint, severity: issue.severity }));
    } else findings.push(baselineFinding('dockerfile-secret-literal', { evidence: describeEnvironmentIssue(issue), location, subject: `${name}\0${issue.fingerprint}` }));
  };

  for (const instruction of dockerfile.instructions) {
    const stage = stages.at(-1);
    switch (instruction.keyword) {
      case 'ARG': {
        for (const { name, value } of parseKeyValues(instruction.args, dockerfile.escape, false)) {
          const effective = options.buildArgs?.get(name) ?? (value === undefined ? undefined : substituteVariables(value, stage?.args ?? globalArgs));
          if (stage === undefined) {
            if (effective !== undefined) globalArgs.set(name, effective);
          } else {
            // An ARG in a stage re-declares a global one (taking its value) or adds its own.
            const inherited = effective ?? globalArgs.get(name);
            if (inherited !== undefined) stage.args.set(name, inherited);
          }
          if (value !== undefined) environment(instruction, name, value);
        }
        break;
      }
      case 'FROM': {
        const words = splitWords(instruction.args, dockerfile.escape).map((word) => word.text).filter((word) => !word.startsWith('--'));
        const written = words[0] ?? '';
        const image = substituteVariables(written, new Map([...globalArgs, ...(options.buildArgs ?? [])]));
        const name = words[1]?.toLowerCase() === 'as' ? words[2]?.toLowerCase() : undefined;
        const parent = stages.find((candidate) => candidate.name !== undefined && candidate.name === image.toLowerCase());
        const newStage: Stage = { ...(name === undefined ? {} : { name }), image, line: instruction.line, baseNonRoot: parent === undefined && /(?:^|[:/_-])(?:nonroot|rootless)(?:$|[:@_-])/.test(image), args: new Map(), ...(parent?.user === undefined ? {} : { user: parent.user }) };
        stages.push(newStage);
        if (parent !== undefined || image.toLowerCase() === 'scratch') break;
        if (hasUnresolvedVariable(image)) {
          unresolved.push(instruction.line);
          break;
        }
        const reference = parseImageReference(image);
        if (reference === undefined) break;
        const pinning = imagePinning(reference);
        if (pinning === 'latest') findings.push(baselineFinding('dockerfile-base-latest', { evidence: `FROM ${image}${reference.tag === undefined ? ' (no tag: latest)' : ''}`, location: at(instruction.line), subject: image }));
        else if (pinning === 'tag') findings.push(baselineFinding('dockerfile-base-unpinned', { evidence: `FROM ${image} has no @sha256: digest`, location: at(instruction.line), subject: image }));
        break;
      }
      case 'USER':
        if (stage !== undefined) stage.user = { value: substituteVariables(instruction.args.trim(), stage.args), line: instruction.line };
        break;
      case 'EXPOSE':
        for (const word of splitWords(substituteVariables(instruction.args, stage?.args ?? globalArgs), dockerfile.escape)) {
          const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word.text);
          if (match === null) continue;
          const low = Number(match[1]);
          const high = match[2] === undefined ? low : Number(match[2]);
          for (const admin of lists.adminPorts.values()) {
            if (admin.port < low || admin.port > high) continue;
            findings.push(baselineFinding('dockerfile-expose-admin-port', { evidence: `EXPOSE ${word.text} (${admin.service})`, location: at(instruction.line), subject: String(admin.port), severity: admin.severity, ...(admin.port === 22 ? { policy: NO_SSH_ACCESS } : {}) }));
          }
        }
        break;
      case 'ENV':
        for (const { name, value } of parseKeyValues(instruction.args, dockerfile.escape)) {
          if (value === undefined) continue;
          environment(instruction, name, value);
          stage?.args.set(name, substituteVariables(value, stage.args));
        }
        break;
      case 'ADD': {
        const words = splitWords(instruction.args, dockerfile.escape).map((word) => word.text);
        const flags = words.filter((word) => word.startsWith('--'));
        const operands = words.filter((word) => !word.startsWith('--'));
        const json = jsonArray(instruction.args);
        const sources = json !== undefined ? json.slice(0, -1).map(String) : operands.slice(0, -1);
        for (const source of sources) {
          if (!/^https?:\/\//i.test(source) || flags.some((flag) => flag.startsWith('--checksum='))) continue;
          findings.push(baselineFinding('dockerfile-add-url', { evidence: `ADD ${source} without --checksum`, location: at(instruction.line), subject: source }));
        }
        break;
      }
      case 'RUN': {
        const script = [instruction.args, ...instruction.heredocs.map((heredoc) => heredoc.body)].join('\n');
        for (const command of commands(script)) {
          if (APT_INSTALL.test(command) && !command.includes('--no-install-recommends') && !/Install-Recommends[= ]+(?:"?false"?|0)/i.test(command)) {
            findings.push(baselineFinding('dockerfile-apt-recommends', { evidence: command.length > 100 ? `${command.slice(0, 100)}…` : command, location: at(instruction.line), subject: command }));
          }
          if (SUDO.test(command)) findings.push(baselineFinding('dockerfile-sudo', { evidence: command.length > 100 ? `${command.slice(0, 100)}…` : command, location: at(instruction.line), subject: command }));
          const mode = worldWritableMode(command);
          if (mode !== undefined) findings.push(baselineFinding('dockerfile-chmod-world-writable', { evidence: command.length > 100 ? `${command.slice(0, 100)}…` : command, location: at(instruction.line), subject: command }));
        }
        break;
      }
      default:
        break;
    }
  }

  // USER in the final stage
  const last = stages.at(-1);
  if (last !== undefined) {
    const user = last.user?.value.split(':')[0]?.trim();
    if (last.user === undefined && !last.baseNonRoot && last.image.toLowerCase() !== 'scratch') {
      findings.push(baselineFinding('dockerfile-user-root', { evidence: `the final stage (FROM ${last.image}, line ${last.line}) sets no USER, so it runs as the base image's user, root unless the base says otherwise`, location: at(last.line), subject: 'final-user' }));
    } else if (last.user !== undefined && (user === '' || user === 'root' || user === '0')) {
      findings.push(baselineFinding('dockerfile-user-root', { evidence: `USER ${last.user.value} is the final stage's last USER`, location: at(last.user.line), subject: 'final-user' }));
    }
  }

  // Secrets anywhere else (RUN lines, heredocs, LABELs), at the line the scanner found them.
  for (const match of scanText(text, options.ruleSet)) {
    const fingerprint = secretFingerprint(match.rule.id, match.secret);
    const instruction = [...dockerfile.instructions].reverse().find((candidate) => candidate.line <= match.line);
    if (instruction !== undefined && reportedSecrets.has(`${instruction.line}\0${fingerprint}`)) continue;
    findings.push(
      baselineFinding('dockerfile-secret', {
        evidence: `${redactSecret(match.secret)} looks like a ${match.rule.title} (secret rule ${match.rule.id}, fingerprint ${fingerprint.slice(0, 12)})`,
        location: at(match.line, instruction?.keyword),
        subject: fingerprint,
        severity: match.rule.severity,
      }),
    );
  }
  return { findings, stages: stages.map((stage) => ({ ...(stage.name === undefined ? {} : { name: stage.name }), image: stage.image, line: stage.line })), unresolved };
}
