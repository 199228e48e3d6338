import type { ConfigItem } from '../config-item.js';
import { bucketItems } from './terraform-buckets.js';
import { TerraformContext } from './terraform-context.js';
import { readTerraformDocument, TerraformFormatError, type TerraformDocument } from './terraform-document.js';
import { iamItems } from './terraform-iam.js';
import { networkItems } from './terraform-network.js';

export interface TerraformCollection {
  readonly document: TerraformDocument;
  readonly items: readonly ConfigItem[];
}

/**
 * Configuration items from a Terraform state or `terraform show -json` document (see
 * terraform-document.ts for the shapes): security groups and their rules, network ACLs, S3 buckets
 * joined per bucket, IAM policies. Other resource types are not items (yet).
 */
export function collectTerraform(text: string, source: string, stack?: string): TerraformCollection {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new TerraformFormatError(`not JSON (${(error as Error).message}); pass terraform.tfstate or the output of \`terraform show -json\`, not HCL`);
  }
  const document = readTerraformDocument(raw);
  const context = new TerraformContext(document, source, stack);
  return { document, items: [...networkItems(context), ...bucketItems(context), ...iamItems(context)] };
}
