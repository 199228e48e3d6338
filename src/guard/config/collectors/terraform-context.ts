import type { ConfigComponent, ConfigItem } from '../config-item.js';
import { attributeRecord, stringOf } from '../attribute-values.js';
import type { TerraformDocument, TerraformResource } from './terraform-document.js';

/**
 * What the Terraform item builders share: the document, where it came from, an optional stack
 * name prefixed to resource ids (two workspaces may both have `aws_security_group.web`), and the
 * way from an attribute holding another resource's id (`security_group_id = "sg-0abc"`, or in a
 * plan an unknown value whose configuration references `aws_security_group.web`) to that resource.
 */
export class TerraformContext {
  constructor(
    readonly document: TerraformDocument,
    readonly source: string,
    readonly stack: string | undefined,
  ) {}

  resourceId(address: string): string {
    return this.stack === undefined ? address : `${this.stack}/${address}`;
  }

  item(component: ConfigComponent, kind: string, address: string, attributes: Readonly<Record<string, unknown>>, resourceId = this.resourceId(address)): ConfigItem {
    return Object.freeze({ component, resourceId, kind, source: this.source, attributes: attributeRecord(attributes) });
  }

  /** `id` → address of every managed resource of these types whose id is known. */
  addressesById(types: ReadonlySet<string>): Map<string, string> {
    const byId = new Map<string, string>();
    for (const resource of this.document.resources) {
      const id = stringOf(resource.values.id);
      if (resource.mode === 'managed' && types.has(resource.type) && id !== undefined) byId.set(id, resource.address);
    }
    return byId;
  }

  /** The resource `resource.attribute` points at: by the id it holds, else by the plan's configuration references. */
  referencedResource(resource: TerraformResource, attribute: string, value: string | undefined, byId: ReadonlyMap<string, string>): TerraformResource | undefined {
    const address = value === undefined ? undefined : byId.get(value);
    if (address !== undefined) return this.document.resources.find((candidate) => candidate.address === address);
    const targets = this.document.references.get(resource.configAddress)?.get(attribute) ?? [];
    for (const target of targets) {
      const found = this.document.resources.find((candidate) => candidate.configAddress === target);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  resolve(resource: TerraformResource, attribute: string, value: string | undefined, byId: ReadonlyMap<string, string>): string | undefined {
    return this.referencedResource(resource, attribute, value, byId)?.address;
  }
}
