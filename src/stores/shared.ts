/**
 * A process-wide note that a store shared between instances (Redis, PostgreSQL) was built: the
 * sign that the application runs on several instances, so per-process defaults elsewhere (an
 * in-memory replay store, a random nonce secret) would silently differ between them. Kept on
 * `globalThis` under a registered symbol so every copy of the library in the process (ESM and CJS
 * builds, entry points) sees one note.
 */
const NOTE = Symbol.for('authnz-express.sharedStores');

interface Noted {
  [NOTE]?: Set<string>;
}

/** Records that a store of `kind` (`Redis`, `PostgreSQL`) was built in this process. */
export function noteSharedStore(kind: string): void {
  ((globalThis as Noted)[NOTE] ??= new Set()).add(kind);
}

/** The kinds of shared stores built in this process (`Redis, PostgreSQL`), or undefined for none. */
export function sharedStoreKinds(): string | undefined {
  const kinds = (globalThis as Noted)[NOTE];
  return kinds === undefined || kinds.size === 0 ? undefined : [...kinds].join(', ');
}
