import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import { checkConfigItems } from '../rules/check-config-items.js';
import { parseTtl, parseZoneFile, ZoneFileError } from './zone-file.js';
import { zoneItems } from './zone-collector.js';

const ZONE = `$ORIGIN example.com.
$TTL 1h ; default for records without one
@   IN  SOA ns1.example.com. hostmaster.example.com. (
        2024061501 ; serial
        2h         ; refresh
        15M        ; retry
        2w         ; expire
        300 )      ; negative caching
    IN  NS  ns1
    IN  NS  ns2.example.net.
    IN  MX  10 mail
    IN  MX  20 mail.backup-provider.example.
@   300 IN TXT "v=spf1 include:_spf.example.net ~all"
_dmarc  IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
long    TXT ( "first string with spaces; and a semicolon"
              "second \\"quoted\\" string" )
www     IN 600 A  192.0.2.10
www         A   192.0.2.11
www.example.com. AAAA 2001:DB8::10
ftp     CNAME   www
*.apps  CNAME   tenant.herokudns.example.
*.int   CNAME   lb.example.com.
$ORIGIN sub.example.com.
host    A       198.51.100.7
`;

test('a BIND zone: one item per RRset, names absolute, TTLs from $TTL or the record, sets sorted', () => {
  const { origin, items } = zoneItems(ZONE, 'dns/example.com.zone');
  assert.equal(origin, 'example.com.');
  const byId = new Map(items.map((item) => [item.resourceId, item.attributes]));
  assert.deepEqual([...byId.keys()].sort(), [
    'example.com./*.apps/CNAME',
    'example.com./*.int/CNAME',
    'example.com./@/MX',
    'example.com./@/NS',
    'example.com./@/SOA',
    'example.com./@/TXT',
    'example.com./_dmarc/TXT',
    'example.com./ftp/CNAME',
    'example.com./host.sub/A',
    'example.com./long/TXT',
    'example.com./www/A',
    'example.com./www/AAAA',
  ]);
  assert.deepEqual(byId.get('example.com./@/NS')!.values, ['ns1.example.com.', 'ns2.example.net.']);
  assert.deepEqual(byId.get('example.com./@/MX')!.values, ['10 mail.example.com.', '20 mail.backup-provider.example.']);
  assert.deepEqual(byId.get('example.com./www/A'), { class: 'IN', name: 'www.example.com.', ttl: 600, type: 'A', values: ['192.0.2.10', '192.0.2.11'] });
  assert.equal(byId.get('example.com./@/TXT')!.ttl, 300);
  assert.equal(byId.get('example.com./_dmarc/TXT')!.ttl, 3600);
  assert.deepEqual(byId.get('example.com./_dmarc/TXT')!.values, ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.com"']);
  assert.deepEqual(byId.get('example.com./long/TXT')!.values, ['"first string with spaces; and a semicolon" "second \\"quoted\\" string"']);
  assert.deepEqual(byId.get('example.com./www/AAAA')!.values, ['2001:db8::10']);
  assert.deepEqual(byId.get('example.com./ftp/CNAME')!.values, ['www.example.com.']);
  // The serial is apart from the SOA's other fields; times in units are seconds.
  assert.deepEqual(byId.get('example.com./@/SOA'), { class: 'IN', name: 'example.com.', serial: 2024061501, ttl: 3600, type: 'SOA', values: ['ns1.example.com. hostmaster.example.com. 7200 900 1209600 300'] });
});

test('the same zone written differently (other order, absolute names, explicit class, other TTL form) gives equal items', () => {
  const rewritten = `$TTL 3600
example.com. IN SOA ns1.example.com. hostmaster.example.com. 2024061501 7200 900 1209600 300
www.example.com. 600 IN A 192.0.2.11
www.example.com. 10m IN A 192.0.2.10
`;
  const original = `$ORIGIN example.com.
$TTL 1h
@ SOA ns1 hostmaster ( 2024061501 2h 15m 2w 5m )
www 600 A 192.0.2.10
    600 A 192.0.2.11
`;
  assert.deepEqual(zoneItems(rewritten, 'z').items, zoneItems(original, 'z').items);
});

test('an origin given on the command line places a zone without $ORIGIN; without one, relative names are refused', () => {
  const text = 'www 300 IN A 192.0.2.1\n';
  assert.equal(zoneItems(text, 'z', 'example.org').items[0]!.resourceId, 'example.org./www/A');
  assert.throws(() => parseZoneFile(text), (error: unknown) => error instanceof ZoneFileError && /needs an origin/.test(error.message));
});

test('malformed zones are refused with the line: unclosed parentheses and quotes, $INCLUDE', () => {
  assert.throws(() => parseZoneFile('$ORIGIN a.\n@ SOA ns hm ( 1 2 3 4 5\n'), /line 2: a "\(" is not closed/);
  assert.throws(() => parseZoneFile('$ORIGIN a.\n@ TXT "open\n'), /quoted string is not closed/);
  assert.throws(() => parseZoneFile('$ORIGIN a.\n$INCLUDE other.zone\n'), /line 2: \$INCLUDE is not supported/);
  assert.equal(parseTtl('1h30m'), 5400);
  assert.equal(parseTtl('IN'), undefined);
});

test('a wildcard CNAME to a name outside the zone is flagged; one inside the zone is not', () => {
  const findings = checkConfigItems(zoneItems(ZONE, 'z').items, { clock: new ManualClock(0) });
  assert.deepEqual(findings.map((finding) => `${finding.ruleId} ${finding.resourceId}`), ['dns-wildcard-cname-external example.com./*.apps/CNAME']);
});
