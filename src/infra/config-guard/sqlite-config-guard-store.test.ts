import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { configGuardStoreContract } from '../../domain/config-guard/config-guard-store-contract.js';
import { SqliteConfigGuardStore } from './sqlite-config-guard-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-config-guard-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

configGuardStoreContract('SQLite', async () => new SqliteConfigGuardStore(join(root, `store-${++n}`, 'config-guard.sqlite')));
