import { auditStoreContract } from './audit-store-contract.js';
import { InMemoryAuditStore } from './in-memory-audit-store.test-fixture.js';

// The fixture the domain tests rely on behaves like a real store.
auditStoreContract('in-memory fixture', async () => new InMemoryAuditStore('node-a'));
