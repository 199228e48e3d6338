/**
 * s3rver (npm), the same-runtime peer, in its own process, started through its JS API with the
 * bucket the benchmark uses. Tells its parent the port over IPC. s3rver writes objects with plain
 * fs writes and never fsyncs, so what it acknowledges may still be only in the page cache.
 */
import S3rver from 's3rver';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: s3rver-process.js DIR');

const server = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: [{ name: 'bench' }],
});
const address = await server.run();
process.send?.({ port: address.port });
process.once('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
