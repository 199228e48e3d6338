import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { Secret } from '../../src/domain/secret.js';
import { S3Client } from '../../src/infra/s3-client/s3-client.js';
import { clientFor, rootKey } from './admin-cli.js';
import { MARIADB_HOST, MARIADB_PORT, randomName, sql } from './mariadb.js';
import { REGION, type RunningVault } from './vault-server.js';

/** Our own S3 client (what the job runner uses) signing with the vault's root key. */
export function leanClient(vault: RunningVault, key = rootKey(vault)): S3Client {
  return new S3Client({ endpoint: new URL(vault.endpoint), region: REGION, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: new Secret(key.secretAccessKey), source: 'test' } });
}

/** A bucket with Object Lock and a 1-day COMPLIANCE default: what a backup destination should be. */
export async function createBackupBucket(vault: RunningVault, name = randomName('jobs').replaceAll('_', '-')): Promise<string> {
  const s3 = clientFor(vault, rootKey(vault));
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
  s3.destroy();
  return name;
}

export const SOURCE_TABLES = ['customers', 'orders', 'blobs'] as const;

/**
 * A source database with a few thousand rows of varied types (utf8mb4 text, decimals, binary
 * blobs, NULLs), a trigger, a stored procedure and a view; and a backup user with the
 * privileges mariadb-dump needs and a random password.
 */
export async function createSourceDatabase(rows = 4000): Promise<{ database: string; user: string; password: string; drop(): Promise<void> }> {
  const database = randomName('hf_src');
  const user = randomName('hf_bk');
  const password = randomName('pw');
  await sql(`
    CREATE DATABASE \`${database}\`;
    USE \`${database}\`;
    CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(200) CHARACTER SET utf8mb4, balance DECIMAL(12,2), note TEXT NULL) ENGINE=InnoDB;
    CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, total DECIMAL(12,2), placed DATETIME(3), INDEX (customer)) ENGINE=InnoDB;
    CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB;
    CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100)) ENGINE=InnoDB;
    CREATE TRIGGER order_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id));
    CREATE PROCEDURE customer_count() SELECT COUNT(*) FROM customers;
    CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 500;
    INSERT INTO customers SELECT seq, CONCAT('Kundin Ä', seq, ' 🦀 ', SHA2(seq, 256)), seq * 1.25, IF(seq % 7 = 0, NULL, REPEAT('x', seq % 300)) FROM seq_1_to_${rows};
    INSERT INTO orders (customer, total, placed) SELECT seq % ${rows} + 1, (seq * 37) % 1000, '2026-01-01 00:00:00' + INTERVAL seq MINUTE FROM seq_1_to_${rows * 2};
    INSERT INTO blobs SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_${Math.max(1, Math.floor(rows / 4))};
    CREATE USER '${user}'@'%' IDENTIFIED BY '${password}';
    CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}';
    GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON \`${database}\`.* TO '${user}'@'%', '${user}'@'localhost';
    GRANT SELECT ON mysql.proc TO '${user}'@'%', '${user}'@'localhost';
  `);
  return {
    database,
    user,
    password,
    async drop() {
      await sql(`DROP DATABASE IF EXISTS \`${database}\`; DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost';`);
    },
  };
}

export function mariadbJobSource(db: { database: string; user: string }, passwordEnv: string, port = MARIADB_PORT) {
  return { kind: 'mariadb-dump', host: MARIADB_HOST, port, user: db.user, passwordEnv, databases: [db.database] };
}
