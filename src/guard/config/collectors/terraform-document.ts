import { isRecord, textOf } from '../attribute-values.js';

/**
 * The resources of a Terraform document, in one shape whatever the file was:
 *
 * - a state file, format version 4 (`terraform.tfstate`, `terraform state pull`):
 *   `{ version: 4, resources: [{ mode, type, name, module?, instances: [{ index_key?, attributes }] }] }`;
 * - `terraform show -json` of a state: `{ format_version, values: { root_module: { resources,
 *   child_modules } } }` (https://developer.hashicorp.com/terraform/internals/json-format);
 * - `terraform show -json PLANFILE`: `planned_values` (what the plan leaves behind), with data
 *   sources read during planning from `prior_state`, and `resource_changes[].change.after` for
 *   resources `planned_values` lacks. A plan does not know values computed at apply time (a new
 *   bucket's `id`), so `configuration` is kept: its expression references say which resource an
 *   attribute points at (`bucket = aws_s3_bucket.logs.id`).
 */
export interface TerraformResource {
  /** `module.net.aws_security_group.web["a"]`, `data.aws_iam_policy_document.x` */
  readonly address: string;
  /** The address without the instance key, as the configuration names it. */
  readonly configAddress: string;
  readonly mode: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface TerraformDocument {
  readonly shape: 'state-v4' | 'show-state' | 'show-plan';
  readonly terraformVersion?: string;
  readonly resources: readonly TerraformResource[];
  /**
   * For plans: configuration address of a resource → attribute → the configuration addresses it
   * references (`aws_s3_bucket_versioning.v` → `bucket` → [`aws_s3_bucket.logs`]).
   */
  readonly references: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

/** A file that is not a Terraform state or `terraform show -json` document; the message says what was expected. */
export class TerraformFormatError extends Error {
  override readonly name = 'TerraformFormatError';
}

function instanceSuffix(key: unknown): string {
  if (key === undefined || key === null) return '';
  return typeof key === 'number' ? `[${key}]` : `[${JSON.stringify(textOf(key))}]`;
}

function stripIndex(address: string): string {
  // `module.a["x"].aws_s3_bucket.b[0]` → `module.a.aws_s3_bucket.b`
  return address.replace(/\[[^\]]*\]/g, '');
}

function fromStateV4(raw: Record<string, unknown>): TerraformResource[] {
  if (!Array.isArray(raw.resources)) throw new TerraformFormatError('a version 4 state needs a "resources" array');
  const out: TerraformResource[] = [];
  for (const resource of raw.resources) {
    if (!isRecord(resource) || typeof resource.type !== 'string' || typeof resource.name !== 'string') continue;
    const mode = resource.mode === 'data' ? 'data' : 'managed';
    const module = typeof resource.module === 'string' && resource.module !== '' ? `${resource.module}.` : '';
    const base = `${module}${mode === 'data' ? 'data.' : ''}${resource.type}.${resource.name}`;
    for (const instance of Array.isArray(resource.instances) ? resource.instances : []) {
      if (!isRecord(instance) || !isRecord(instance.attributes)) continue;
      out.push({ address: `${base}${instanceSuffix(instance.index_key)}`, configAddress: stripIndex(base), mode, type: resource.type, name: resource.name, values: instance.attributes });
    }
  }
  return out;
}

function fromModule(module: unknown, out: Map<string, TerraformResource>): void {
  if (!isRecord(module)) return;
  for (const resource of Array.isArray(module.resources) ? module.resources : []) {
    if (!isRecord(resource) || typeof resource.address !== 'string' || typeof resource.type !== 'string') continue;
    const mode = resource.mode === 'data' ? 'data' : 'managed';
    out.set(resource.address, { address: resource.address, configAddress: stripIndex(resource.address), mode, type: resource.type, name: String(resource.name), values: isRecord(resource.values) ? resource.values : {} });
  }
  for (const child of Array.isArray(module.child_modules) ? module.child_modules : []) fromModule(child, out);
}

function configurationReferences(module: unknown, prefix: string, out: Map<string, Map<string, string[]>>): void {
  if (!isRecord(module)) return;
  for (const resource of Array.isArray(module.resources) ? module.resources : []) {
    if (!isRecord(resource) || typeof resource.address !== 'string' || !isRecord(resource.expressions)) continue;
    const attributes = new Map<string, string[]>();
    for (const [attribute, expression] of Object.entries(resource.expressions)) {
      if (!isRecord(expression) || !Array.isArray(expression.references)) continue;
      // References list both `aws_s3_bucket.b.id` and `aws_s3_bucket.b`; keep resource addresses.
      const targets = expression.references.filter((reference): reference is string => typeof reference === 'string').map((reference) => `${prefix}${stripIndex(reference)}`);
      attributes.set(attribute, targets);
    }
    out.set(`${prefix}${resource.address}`, attributes);
  }
  if (isRecord(module.module_calls)) {
    for (const [name, call] of Object.entries(module.module_calls)) {
      if (isRecord(call)) configurationReferences(call.module, `${prefix}module.${name}.`, out);
    }
  }
}

/** Reads any of the three shapes; throws TerraformFormatError for anything else. */
export function readTerraformDocument(raw: unknown): TerraformDocument {
  if (!isRecord(raw)) throw new TerraformFormatError('expected a JSON object: a terraform.tfstate (version 4) or the output of `terraform show -json`');
  const terraformVersion = typeof raw.terraform_version === 'string' ? raw.terraform_version : undefined;
  const version = terraformVersion === undefined ? {} : { terraformVersion };
  if (raw.version === 4) return { shape: 'state-v4', ...version, resources: fromStateV4(raw), references: new Map() };
  if (typeof raw.version === 'number') throw new TerraformFormatError(`state version ${raw.version} is not supported; run \`terraform state pull\` with Terraform 0.12 or later (version 4), or pass \`terraform show -json\``);
  if (typeof raw.format_version !== 'string') throw new TerraformFormatError('expected "version": 4 (a state file) or "format_version" (`terraform show -json`)');
  const resources = new Map<string, TerraformResource>();
  if (isRecord(raw.planned_values) || Array.isArray(raw.resource_changes)) {
    if (isRecord(raw.planned_values)) fromModule(raw.planned_values.root_module, resources);
    // Data sources read while planning are in prior_state, not planned_values.
    if (isRecord(raw.prior_state) && isRecord(raw.prior_state.values)) {
      const prior = new Map<string, TerraformResource>();
      fromModule(raw.prior_state.values.root_module, prior);
      for (const [address, resource] of prior) if (resource.mode === 'data' && !resources.has(address)) resources.set(address, resource);
    }
    for (const change of Array.isArray(raw.resource_changes) ? raw.resource_changes : []) {
      if (!isRecord(change) || typeof change.address !== 'string' || typeof change.type !== 'string' || resources.has(change.address)) continue;
      const after = isRecord(change.change) ? change.change.after : undefined;
      if (!isRecord(after)) continue; // deleted by the plan
      resources.set(change.address, { address: change.address, configAddress: stripIndex(change.address), mode: change.mode === 'data' ? 'data' : 'managed', type: change.type, name: String(change.name), values: after });
    }
    const references = new Map<string, Map<string, string[]>>();
    if (isRecord(raw.configuration)) configurationReferences(raw.configuration.root_module, '', references);
    return { shape: 'show-plan', ...version, resources: [...resources.values()], references };
  }
  if (isRecord(raw.values)) {
    fromModule(raw.values.root_module, resources);
    return { shape: 'show-state', ...version, resources: [...resources.values()], references: new Map() };
  }
  // `terraform show -json` of an empty state has no "values" at all.
  return { shape: 'show-state', ...version, resources: [], references: new Map() };
}
