import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageFormatError } from '../guard/baseline/image/image-archive.js';
import { DEFAULT_IMAGE_MAX_FILE_BYTES, DEFAULT_MAX_PACKAGES, scanImage } from '../guard/baseline/image/image-scan.js';
import { loadSecretRules } from '../guard/secrets/secret-rules.js';
import { TarFormatError } from '../infra/tar/tar-header.js';
import { BaselineUsageError, emitBaselineReport, OUTPUT_OPTIONS, OUTPUT_USAGE, outputChoice, positiveInteger, processBaselineIo, runBaselineCommand, type BaselineScanIo } from './baseline-scan-cli.js';
import { EXIT_OK } from './exit-codes.js';

export const SCAN_IMAGE_USAGE = `Usage:
  holdfast scan image IMAGE.tar|OCI-DIR [--image NAME] [--max-file-size BYTES[K|M]] [--max-packages N]
                      [--format table|json|sarif] [--json] [--sarif FILE] [--fail-on low|medium|high|critical]

scan image reads a container image without a Docker engine — a \`docker save\` tarball or an OCI
image layout directory (\`docker buildx build --output type=oci,tar=false,dest=DIR\`, skopeo,
crane) — applies its layers with their whiteouts, and checks it against the Configuration
Management Policy's baseline: root user, administration ports, SSH and other services,
compilers and other unneeded packages, distroless shells, base image and its digest, secrets in
the environment, the build history and files, default credentials, setuid and world-writable
files. Rules and fixes: src/guard/baseline/README.md.

  --image NAME      the image to scan when the archive holds several (a RepoTags or ref.name)
  --max-file-size   text files up to this size are scanned for secrets (default 256K)
  --max-packages    more installed packages than this is a finding (default ${DEFAULT_MAX_PACKAGES})
${OUTPUT_USAGE}

Exit codes: 0 nothing at or above --fail-on, 1 the image or a layer could not be read (zstd layers
cannot be on Node 20), 2 usage error, 4 findings at or above --fail-on.
`;

export async function runScanImageCommand(args: string[], io: BaselineScanIo = processBaselineIo): Promise<number> {
  return runBaselineCommand(
    'image',
    SCAN_IMAGE_USAGE,
    io,
    async () => {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...OUTPUT_OPTIONS, image: { type: 'string' }, 'max-file-size': { type: 'string' }, 'max-packages': { type: 'string' } } });
      if (values.help === true) {
        io.stdout(SCAN_IMAGE_USAGE);
        return EXIT_OK;
      }
      const output = outputChoice(values);
      const maxFileBytes = positiveInteger(values['max-file-size'], '--max-file-size', DEFAULT_IMAGE_MAX_FILE_BYTES);
      const maxPackages = positiveInteger(values['max-packages'], '--max-packages', DEFAULT_MAX_PACKAGES);
      if (positionals.length !== 1) throw new BaselineUsageError(positionals.length === 0 ? 'scan image needs the image: a docker save tarball (docker save -o app.tar IMAGE) or an OCI layout directory.' : `scan image takes one image, not "${positionals.join(' ')}".`);
      const path = resolve(positionals[0]!);
      if (!existsSync(path)) throw new BaselineUsageError(`${path} does not exist; pass a docker save tarball (docker save -o app.tar IMAGE) or an OCI layout directory.`);
      const started = performance.now();
      const result = await scanImage(path, { ruleSet: loadSecretRules(), maxFileBytes, maxPackages, ...(values.image === undefined ? {} : { select: values.image }) });
      return emitBaselineReport({ scanner: 'image', root: result.root, target: path, failOn: output.failOn, findings: result.findings, problems: result.problems, facts: result.facts, filesScanned: result.filesScanned, durationMs: performance.now() - started }, output, io, true);
    },
    (error) => error instanceof ImageFormatError || error instanceof TarFormatError || (error as NodeJS.ErrnoException).code === 'EACCES',
  );
}
