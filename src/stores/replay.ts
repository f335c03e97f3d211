/**
 * Nonce stores: remember which (subject, time, nonce) triples were used so a signed request cannot
 * be replayed inside its acceptance window. One atomic "claim" per request.
 */
import { AuthError, dependencyUnavailable } from '../errors.js';
import { functionOption, optionNames, optionsObject, positiveInteger } from '../lib/options.js';
import { Warnings, type ObservableOptions } from '../lib/warnings.js';

/** One nonce to claim. */
export interface ReplayClaim {
  /** Whose nonce: the username (nonces are scoped per subject). */
  readonly subject: string;
  /** The token's time claim as text (nonces are scoped per subject and time). */
  readonly time: string;
  /** The nonce as text. */
  readonly nonce: string;
  /** How long to remember it, in ms; at least the whole acceptance window. */
  readonly ttlMs: number;
}

/** Where used nonces are recorded. */
export interface ReplayStore {
  /**
   * Atomically records the nonce.
   * @returns true when it was new (the request may proceed), false when it was already used.
   * @throws AuthError `dependency_unavailable` (503) when the store cannot answer or is full, or
   *   `rate_limited` (429) when the subject holds its whole quota.
   */
  claim(claim: ReplayClaim): Promise<boolean>;
}

/** Options for {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions extends ObservableOptions {
  /** Most nonces held at once (default 100 000; a positive integer). When full and nothing has expired, claims get 503. */
  readonly maxEntries?: number;
  /** Most bytes held at once, counting each entry's key text and a fixed overhead (default 16 MiB; a positive integer). */
  readonly maxBytes?: number;
  /**
   * Most nonces one subject may hold at once (default half of `maxEntries`; a positive integer), so that
   * one registered caller cannot fill the store and lock every other caller out; over it, that
   * caller gets 429.
   */
  readonly maxEntriesPerSubject?: number;
  /**
   * Most bytes one subject's nonces may take at once (default half of `maxBytes`; a positive
   * integer): the same quota as `maxEntriesPerSubject`, counted in bytes, so that one subject cannot reach
   * the byte cap before its entry quota. Over it, that caller gets 429.
   */
  readonly maxBytesPerSubject?: number;
  /** Clock, epoch ms (default `Date.now`); expiry is measured with it. */
  readonly clock?: () => number;
}

interface Entry {
  readonly expiresAt: number;
  readonly subject: string;
  readonly bytes: number;
}

/** What one subject holds: its entries and their bytes. */
interface Holding {
  count: number;
  bytes: number;
}

const WHERE = 'new MemoryReplayStore()';
const KNOWN = optionNames<MemoryReplayStoreOptions>()({
  maxEntries: 1,
  maxBytes: 1,
  maxEntriesPerSubject: 1,
  maxBytesPerSubject: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});
// Per-entry bookkeeping (Map slot, entry object, numbers) on top of the key text, measured roughly.
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * The embedded nonce store for one process. It is bounded by entries, bytes and entries per subject,
 * and when full it refuses (503, or 429 for a subject over its quota) rather than dropping an entry
 * whose window is still open: a dropped nonce could be replayed.
 */
export class MemoryReplayStore implements ReplayStore {
  // Insertion order is expiry order for one TTL, so the oldest entries are found first.
  readonly #entries = new Map<string, Entry>();
  readonly #perSubject = new Map<string, Holding>();
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #maxEntriesPerSubject: number;
  readonly #maxBytesPerSubject: number;
  readonly #clock: () => number;
  #bytes = 0;
  #lastSweep = Number.NEGATIVE_INFINITY;

  /** @throws TypeError for a size that is not a positive integer. */
  constructor(input: MemoryReplayStoreOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#max = positiveInteger(options.maxEntries, 100_000, WHERE, 'maxEntries');
    this.#maxBytes = positiveInteger(options.maxBytes, 16 * 1024 * 1024, WHERE, 'maxBytes');
    this.#maxEntriesPerSubject = positiveInteger(
      options.maxEntriesPerSubject,
      Math.max(1, Math.floor(this.#max / 2)),
      WHERE,
      'maxEntriesPerSubject',
    );
    this.#maxBytesPerSubject = positiveInteger(
      options.maxBytesPerSubject,
      Math.max(1, Math.floor(this.#maxBytes / 2)),
      WHERE,
      'maxBytesPerSubject',
    );
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  }

  /** Number of entries held (expired ones included until they are dropped). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Claims a nonce; see {@link ReplayStore.claim}. */
  async claim(claim: ReplayClaim): Promise<boolean> {
    const now = this.#clock();
    const key = JSON.stringify([claim.subject, claim.time, claim.nonce]);
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      if (existing.expiresAt > now) return false;
      this.#delete(key, existing);
    }
    this.#dropExpiredHead(now, 8);
    const bytes = 2 * key.length + ENTRY_OVERHEAD_BYTES;
    if (this.#entries.size >= this.#max || this.#bytes + bytes > this.#maxBytes) {
      this.#sweep(now);
      if (this.#entries.size >= this.#max || this.#bytes + bytes > this.#maxBytes)
        throw dependencyUnavailable('replay_store_full', undefined, this.#retryAfter(now));
    }
    // The quota in entries and in bytes: long nonces must not let one subject reach the byte cap.
    if (this.#overQuota(claim.subject, bytes)) {
      this.#sweep(now);
      if (this.#overQuota(claim.subject, bytes)) {
        throw new AuthError('rate_limited', {
          reason: 'replay_store_full',
          detail: 'Too many requests from this caller in the replay window.',
          retryAfter: this.#retryAfter(now),
        });
      }
    }
    this.#entries.set(key, { expiresAt: now + Math.max(1, Math.ceil(claim.ttlMs)), subject: claim.subject, bytes });
    const holding = this.#perSubject.get(claim.subject);
    if (holding === undefined) this.#perSubject.set(claim.subject, { count: 1, bytes });
    else {
      holding.count++;
      holding.bytes += bytes;
    }
    this.#bytes += bytes;
    return true;
  }

  /** True when one more entry of `bytes` would take the subject past its quota, in entries or in bytes. */
  #overQuota(subject: string, bytes: number): boolean {
    const holding = this.#perSubject.get(subject);
    return holding !== undefined && (holding.count >= this.#maxEntriesPerSubject || holding.bytes + bytes > this.#maxBytesPerSubject);
  }

  #delete(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    const holding = this.#perSubject.get(entry.subject);
    if (holding === undefined) return;
    if (--holding.count > 0) holding.bytes -= entry.bytes;
    else this.#perSubject.delete(entry.subject);
  }

  /** Drops up to `limit` expired entries from the oldest end (cheap, on every claim). */
  #dropExpiredHead(now: number, limit: number): void {
    for (const [key, entry] of this.#entries) {
      if (limit-- <= 0 || entry.expiresAt > now) return;
      this.#delete(key, entry);
    }
  }

  /** Entries with different TTLs expire out of order: a full sweep, at most once a second. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 1000) {
      this.#dropExpiredHead(now, Number.POSITIVE_INFINITY);
      return;
    }
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#delete(key, entry);
  }

  /** Seconds until the oldest entry expires (a hint for Retry-After). */
  #retryAfter(now: number): number {
    const oldest = this.#entries.values().next();
    return oldest.done ? 1 : Math.max(1, Math.ceil((oldest.value.expiresAt - now) / 1000));
  }
}
