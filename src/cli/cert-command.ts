import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../infra/clock.js';
import { generateSelfSignedCertificate, MAX_VALID_DAYS } from '../infra/tls/self-signed-certificate.js';
import { subjectAltName, type SubjectAltName } from '../infra/tls/subject-alt-names.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { syncDirectory } from '../infra/fs/sync-directory.js';

/**
 * Apple platforms refuse TLS server certificates valid for more than 825 days, even when the user
 * trusts them (Apple HT210176, "Requirements for trusted certificates in iOS 13 and macOS
 * 10.15"); a default that works everywhere.
 */
const DEFAULT_DAYS = 825;
const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'];
export const CERT_FILE_NAME = 'holdfast.crt';
export const KEY_FILE_NAME = 'holdfast.key';

const USAGE = `Usage:
  holdfast cert --out DIR [--name DNS-or-IP …] [--days N] [--force] [--json]

Makes a self-signed TLS certificate and its private key for the server: DIR/${CERT_FILE_NAME}
(mode 0644) and DIR/${KEY_FILE_NAME} (mode 0600). Clients trust the certificate file itself
(aws --ca-bundle, curl --cacert, AWS_CA_BUNDLE).

  --name   a DNS name (*.example.com for virtual-host buckets) or IP address clients use to
           reach the server; repeat it or separate with commas. Default: ${DEFAULT_NAMES.join(', ')}.
  --days   validity, 1 to ${MAX_VALID_DAYS} days. Default ${DEFAULT_DAYS} (the most Apple platforms accept).
  --force  replace existing files; clients must then be given the new certificate.
  --json   print the result as JSON.
Exit codes: 0 done, 1 failure, 2 usage error.
`;

/** Where the command writes and what time it is; the process's own by default. */
export interface CertCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
}

const processIo: CertCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  clock: systemClock,
};

class UsageError extends Error {}
/** A usage error the usage text would not help with. */
class ExistingFileError extends UsageError {}

function parseNames(values: readonly string[] | undefined): SubjectAltName[] {
  const texts = (values ?? DEFAULT_NAMES).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  if (texts.length === 0) throw new UsageError('--name needs a DNS name or an IP address.');
  const names = new Map<string, SubjectAltName>();
  for (const text of texts) {
    let name: SubjectAltName;
    try {
      name = subjectAltName(text);
    } catch (error) {
      throw new UsageError(`--name ${(error as Error).message}.`);
    }
    names.set(name.kind === 'dns' ? `dns:${name.name}` : `ip:${name.bytes.toString('hex')}`, name);
  }
  return [...names.values()];
}

function parseDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DAYS;
  const days = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(days >= 1 && days <= MAX_VALID_DAYS)) throw new UsageError(`--days takes a whole number from 1 to ${MAX_VALID_DAYS}, not "${value}".`);
  return days;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Writes `content` to a new temporary file beside `path` with exactly `mode`, and fsyncs it. */
async function writeTemporary(path: string, content: string, mode: number): Promise<string> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.chmod(mode); // open()'s mode passes through the umask; the key must be 0600 exactly
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temporary;
}

/**
 * Moves a finished temporary file into place. Without --force a hard link refuses to replace a
 * file that appeared since the check (link(2) fails with EEXIST); with it, rename(2) replaces
 * the old file atomically, so a reader sees the old or the new file, never half of one.
 */
async function commit(temporary: string, path: string, force: boolean): Promise<void> {
  if (force) {
    await rename(temporary, path);
    return;
  }
  await link(temporary, path);
  await unlink(temporary);
}

/** `holdfast cert`: writes a self-signed certificate and key for the server's TLS listener. */
export async function runCertCommand(argv: string[], io: CertCommandIo = processIo): Promise<number> {
  let json = false;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        name: { type: 'string', multiple: true },
        days: { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    json = values.json === true;
    if (values.help === true) {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    if (values.out === undefined || values.out.trim() === '') throw new UsageError('--out DIR is required: the directory for the certificate and key.');
    const names = parseNames(values.name);
    const validDays = parseDays(values.days);
    const force = values.force === true;
    const dir = resolve(values.out);
    const certFile = join(dir, CERT_FILE_NAME);
    const keyFile = join(dir, KEY_FILE_NAME);

    if (!force) {
      for (const file of [keyFile, certFile]) {
        if (await exists(file)) throw new ExistingFileError(`${file} already exists. Pass --force to replace it (clients that trust the old certificate must then be given the new one).`);
      }
    }

    const dnsNames = names.flatMap((name) => (name.kind === 'dns' ? [name.name] : []));
    const ipAddresses = names.flatMap((name) => (name.kind === 'ip' ? [name.address] : []));
    const firstName = dnsNames[0] ?? ipAddresses[0]!;
    const generated = generateSelfSignedCertificate({
      commonName: firstName.length <= 64 ? firstName : 'holdfast',
      dnsNames,
      ipAddresses,
      validDays,
      now: new Date(io.clock.nowMs()),
    });

    // The directory holds a private key: only its owner may list it, when this command creates it.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporaries: string[] = [];
    try {
      const keyTemporary = await writeTemporary(keyFile, generated.keyPem.reveal(), 0o600);
      temporaries.push(keyTemporary);
      const certTemporary = await writeTemporary(certFile, generated.certPem, 0o644);
      temporaries.push(certTemporary);
      await commit(keyTemporary, keyFile, force);
      await commit(certTemporary, certFile, force);
      await syncDirectory(dir);
    } finally {
      await Promise.all(temporaries.map((temporary) => unlink(temporary).catch(() => {})));
    }

    const result = {
      certFile,
      keyFile,
      fingerprintSha256: generated.fingerprintSha256,
      serialNumber: generated.serialNumber,
      notBefore: generated.notBefore.toISOString(),
      notAfter: generated.notAfter.toISOString(),
      names: [...dnsNames, ...ipAddresses],
      config: { tlsCertFile: certFile, tlsKeyFile: keyFile },
    };
    if (json) {
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      io.stdout(
        [
          `Wrote ${certFile} (certificate, valid until ${result.notAfter}, for ${result.names.join(', ')})`,
          `Wrote ${keyFile} (private key, mode 0600)`,
          `SHA-256 fingerprint ${generated.fingerprintSha256}`,
          '',
          'Server configuration (config file keys, or the flags):',
          `  "tlsCertFile": "${certFile}", "tlsKeyFile": "${keyFile}"`,
          `  holdfast server --tls-cert ${certFile} --tls-key ${keyFile}`,
          `Clients trust it with: aws --ca-bundle ${certFile} | curl --cacert ${certFile} | AWS_CA_BUNDLE=${certFile}`,
          '',
        ].join('\n'),
      );
    }
    return EXIT_OK;
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    const usage = error instanceof UsageError || parseError;
    const message = (error as Error).message;
    if (json) io.stdout(`${JSON.stringify({ error: { message, usage } }, null, 2)}\n`);
    io.stderr(usage && !(error instanceof ExistingFileError) ? `holdfast cert: ${message}\n${USAGE}` : `holdfast cert: ${message}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILURE;
  }
}
