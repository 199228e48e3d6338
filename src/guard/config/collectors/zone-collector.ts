import type { ConfigItem } from '../config-item.js';
import { attributeRecord, stringSet } from '../attribute-values.js';
import { parseZoneFile, type ZoneRecord } from './zone-file.js';

/**
 * One `dns_record` item per RRset — (name, type), the unit DNS answers with and providers edit —
 * with its values as a sorted set. Resource ids are `ZONE/RELATIVE-NAME/TYPE`
 * (`example.com./www/A`, `example.com./@/MX`), so a record reads the way it is written.
 * The SOA serial changes with every edit; it is kept apart from the SOA's other fields so that a
 * change shows as the serial it is, beside the records that changed.
 */
function relativeName(name: string, origin: string): string {
  if (name === origin) return '@';
  return name.endsWith(`.${origin}`) ? name.slice(0, -(origin.length + 1)) : name;
}

export function zoneItems(text: string, source: string, origin?: string): { origin: string; items: ConfigItem[] } {
  const zone = parseZoneFile(text, origin);
  const rrsets = new Map<string, ZoneRecord[]>();
  for (const record of zone.records) {
    const key = `${record.name}\0${record.type}`;
    rrsets.set(key, [...(rrsets.get(key) ?? []), record]);
  }
  const items: ConfigItem[] = [];
  for (const records of rrsets.values()) {
    const { name, type, klass } = records[0]!;
    const attributes: Record<string, unknown> = {
      name,
      type,
      class: klass,
      // Records of one RRset should share a TTL (RFC 2181 §5.2); resolvers use the lowest.
      ttl: Math.min(...records.map((record) => record.ttl)),
      values: stringSet(records.map((record) => record.rdata)),
    };
    if (type === 'SOA') {
      const fields = records[0]!.rdata.split(' ');
      attributes.values = [[fields[0], fields[1], ...fields.slice(3)].join(' ')];
      attributes.serial = Number(fields[2]);
    }
    items.push(Object.freeze({ component: 'dns' as const, resourceId: `${zone.origin}/${relativeName(name, zone.origin)}/${type}`, kind: 'dns_record', source, attributes: attributeRecord(attributes) }));
  }
  return { origin: zone.origin, items };
}
