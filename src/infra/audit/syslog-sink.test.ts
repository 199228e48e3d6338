import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import type { AuditEntry } from '../../domain/audit/audit-entry.js';
import { auditChain, requestFields } from '../../domain/audit/in-memory-audit-store.test-fixture.js';
import { createSyslogSink, formatSyslogMessage } from './syslog-sink.js';

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) \uFEFF(.*)$/s;
const entries = auditChain(3, (i) => requestFields(i, { result: (['ok', 'denied', 'error'] as const)[i]!, timeMs: Date.UTC(2040, 1, 2, 3, 4, 5, 600 + i) }));
const servers: Array<{ close(): unknown }> = [];
after(() => servers.forEach((s) => s.close()));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (condition()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function assertMessage(text: string, entry: AuditEntry, expectedPri: number): void {
  const match = RFC5424.exec(text);
  assert.ok(match, text);
  const [, pri, timestamp, host, app, procId, msgId, sd, msg] = match;
  assert.equal(Number(pri), expectedPri);
  assert.equal(timestamp, new Date(entry.timeMs).toISOString());
  assert.equal(host, 'vault-1');
  assert.equal(app, 'holdfast');
  assert.equal(procId, String(process.pid));
  assert.equal(msgId, 'audit');
  assert.equal(sd, '-');
  const body = JSON.parse(msg!) as Record<string, unknown>;
  assert.equal(body.type, 'audit');
  assert.equal(body.chain, 'node-a');
  assert.equal(body.seq, entry.seq);
  assert.equal(body.hash, entry.hash);
}

test('UDP: every entry arrives at a real local receiver as one RFC 5424 datagram, severity by result', async () => {
  const receiver = createSocket('udp4');
  servers.push(receiver);
  const received: string[] = [];
  receiver.on('message', (datagram) => received.push(datagram.toString('utf8')));
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const sink = createSyslogSink({ host: '127.0.0.1', port: receiver.address().port, protocol: 'udp', appName: 'holdfast', hostname: 'vault-1', chain: 'node-a' });
  for (const entry of entries) sink.write(entry);
  await until(() => received.length === 3, 'three datagrams');
  await sink.close();
  // facility 13 (log audit) × 8 + severity: 6 informational, 5 notice, 4 warning.
  assertMessage(received[0]!, entries[0]!, 110);
  assertMessage(received[1]!, entries[1]!, 109);
  assertMessage(received[2]!, entries[2]!, 108);
  assert.equal(sink.droppedEntries, 0);
});

test('header fields are printable ASCII and bounded', () => {
  const message = formatSyslogMessage(entries[0]!, { facility: 4, hostname: 'host with spaces', appName: 'a'.repeat(60), procId: '7' }).toString('utf8');
  const match = RFC5424.exec(message)!;
  assert.equal(match[1], '38');
  assert.equal(match[3], 'host-with-spaces');
  assert.equal(match[4], 'a'.repeat(48));
});

/** A TCP syslog receiver that splits RFC 6587 octet-counted frames. */
function tcpReceiver(received: string[]): Server {
  const server = createServer((socket: Socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      while (true) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (buffer.length < space + 1 + length) return;
        received.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        buffer = buffer.subarray(space + 1 + length);
      }
    });
  });
  servers.push(server);
  return server;
}

test('TCP: with the receiver down at first, entries wait and are delivered once it is up, octet-counted', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const errors: unknown[] = [];
  const sink = createSyslogSink({ host: '127.0.0.1', port, protocol: 'tcp', appName: 'holdfast', hostname: 'vault-1', chain: 'node-a', onError: (e) => errors.push(e) });
  sink.write(entries[0]!);
  sink.write(entries[1]!);
  await until(() => errors.length > 0, 'the refused connection to be reported');
  assert.match(String(errors[0]), /ECONNREFUSED/);

  const received: string[] = [];
  const server = tcpReceiver(received);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  sink.write(entries[2]!);
  await until(() => received.length === 3, 'three frames after reconnecting');
  await sink.close();
  assertMessage(received[0]!, entries[0]!, 110);
  assertMessage(received[2]!, entries[2]!, 108);
  assert.equal(sink.droppedEntries, 0);
});

test('TCP: while no receiver is reachable, memory stays bounded and the excess is counted', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const sink = createSyslogSink({ host: '127.0.0.1', port, protocol: 'tcp', appName: 'holdfast', maxPendingBytes: 4096, onError: () => undefined });
  const many = auditChain(200, (i) => requestFields(i));
  for (const entry of many) sink.write(entry);
  assert.ok(sink.droppedEntries >= 190, `${sink.droppedEntries} dropped`);
  const started = Date.now();
  await sink.close();
  assert.ok(Date.now() - started < 3_000);
  assert.equal(sink.droppedEntries, 200, 'what never reached a receiver is counted too');
});
