/**
 * A process-wide note that a store shared between instances (Redis, PostgreSQL) was built: the
 * sign that the application runs on several instances, so per-process defaults elsewhere (an
 * in-memory replay store, a random nonce secret) would silently differ between them. Kept on
 * `globalThis` under a registered symbol so every copy of the library in the process (ESM and CJS
 * builds, entry points) sees one note.
 */
const NOTE = Symbol.for('authnz-express.sharedStore');

interface Noted {
  [NOTE]?: string;
}

/** Records that a store of `kind` (`Redis`, `PostgreSQL`) was built in this process. */
export function noteSharedStore(kind: string): void {
  (globalThis as Noted)[NOTE] ??= kind;
}

/** The kind of the first shared store built in this process, if any. */
export function sharedStoreKind(): string | undefined {
  return (globalThis as Noted)[NOTE];
}
