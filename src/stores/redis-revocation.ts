/**
 * A revocation list shared by every instance through Redis: single tokens by `jti` (kept until the
 * token's own expiry) and whole subjects by a cut-off time (every token of that subject issued at or
 * before it is refused). One key per entry and no multi-key command, so it runs on a Cluster as is.
 * When Redis cannot answer, `isRevoked` rejects with a 503 `AuthError`: never a pass.
 */
import { hashTag, redisCommand, type RedisClientLike, type RedisCommand, type RedisStoreOptions } from './redis-command.js';
import { functionOption, optionNames, optionsObject, positive, positiveInteger, stringOption } from '../lib/options.js';
import { Warnings } from '../lib/warnings.js';

const WHERE = 'new RedisRevocationList()';
const KNOWN = optionNames<RedisRevocationListOptions>()({
  keyPrefix: 1,
  timeoutMs: 1,
  maxTokenLifetimeSeconds: 1,
  clock: 1,
  logger: 1,
  validate: 1,
});

/** Options for {@link RedisRevocationList}. */
export interface RedisRevocationListOptions extends RedisStoreOptions {
  /**
   * Longest lifetime of any token checked against this list, seconds (default 86 400; an integer
   * >= 1): a subject's cut-off is kept this long after the cut-off time, after which no token it covers
   * can still be valid. Use the verifier's `maxTokenLifetimeSeconds` (which bounds `exp - iat`) plus
   * its clock tolerance.
   */
  readonly maxTokenLifetimeSeconds?: number;
  /** Clock, epoch ms. */
  readonly clock?: () => number;
}

/** What {@link RedisRevocationList.isRevoked} looks at; an absent field is not checked. */
export interface RevocationCheck {
  /** The token's `jti`. */
  readonly jti?: string;
  /** The token's subject. */
  readonly subject?: string;
  /** When the token was issued, epoch seconds; absent while the subject has a cut-off: revoked. */
  readonly issuedAt?: number;
}

// Raises a subject's cut-off, never lowers it (two revocations in any order keep the later one).
const RAISE_CUTOFF = `local c = redis.call('GET', KEYS[1])
if (not c) or tonumber(c) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

/** Redis-backed revocation list. Exported from `authnz-express/redis`. */
export class RedisRevocationList {
  readonly #send: RedisCommand;
  readonly #prefix: string;
  readonly #maxLifetimeMs: number;
  readonly #clock: () => number;

  /** @throws TypeError `new RedisRevocationList(): "<option>" must be …` for options out of range. */
  constructor(client: RedisClientLike, input: RedisRevocationListOptions = {}) {
    const options = optionsObject(input, WHERE, true);
    new Warnings(WHERE, options).unknownOptions(options, KNOWN);
    this.#maxLifetimeMs = positiveInteger(options.maxTokenLifetimeSeconds, 86_400, WHERE, 'maxTokenLifetimeSeconds') * 1000;
    this.#send = redisCommand(client, { timeoutMs: positive(options.timeoutMs, 250, WHERE, 'timeoutMs') });
    this.#prefix = stringOption(options.keyPrefix, 'authnz:revoked:', WHERE, 'keyPrefix');
    this.#clock = functionOption<() => number>(options.clock, WHERE, 'clock', 'a function () => epoch ms') ?? Date.now;
  }

  #jtiKey(jti: string): string {
    return `${this.#prefix}jti:${hashTag(jti)}`;
  }

  #subjectKey(subject: string): string {
    return `${this.#prefix}sub:${hashTag(subject)}:${encodeURIComponent(subject)}`;
  }

  /** Revokes one token by `jti` until `expiresAt` (epoch seconds; default now + the max lifetime). */
  async revokeToken(jti: string, expiresAt?: number): Promise<void> {
    const ttl = expiresAt === undefined ? this.#maxLifetimeMs : Math.ceil(expiresAt * 1000 - this.#clock());
    if (ttl <= 0) return; // already expired: the verifier refuses it anyway
    await this.#send(['SET', this.#jtiKey(jti), '1', 'PX', String(ttl)]);
  }

  /**
   * Revokes every token of `subject` issued at or before `before` (epoch seconds; default now). The
   * cut-off is kept until `before` plus the max lifetime: the last moment a token it covers can expire
   * when the verifier bounds `exp - iat` by the same lifetime.
   */
  async revokeSubject(subject: string, before?: number): Promise<void> {
    const cutoff = before ?? Math.floor(this.#clock() / 1000);
    const ttl = Math.ceil(cutoff * 1000 + this.#maxLifetimeMs - this.#clock());
    if (ttl <= 0) return; // every token it covers has expired
    await this.#send(['EVAL', RAISE_CUTOFF, '1', this.#subjectKey(subject), String(cutoff), String(ttl)]);
  }

  /**
   * True when the token is listed by `jti` or its subject was cut off at or after its issue time.
   * @throws AuthError 503 `dependency_unavailable` when Redis cannot answer.
   */
  async isRevoked(check: RevocationCheck): Promise<boolean> {
    const [byJti, cutoff] = await Promise.all([
      check.jti === undefined ? null : this.#send(['EXISTS', this.#jtiKey(check.jti)]),
      check.subject === undefined ? null : this.#send(['GET', this.#subjectKey(check.subject)]),
    ]);
    if (Number(byJti) > 0) return true;
    if (cutoff === null || cutoff === undefined) return false;
    return check.issuedAt === undefined || check.issuedAt <= Number(String(cutoff));
  }

  /** An `isRevoked` for `apiJwtScheme()`: `jti`, subject and `iat` of the token. */
  forApiJwt(): (claims: { readonly id: string; readonly raw: Readonly<Record<string, unknown>> }) => Promise<boolean> {
    return (claims) => this.isRevoked(fromClaims(claims.id, claims.raw));
  }

  /** An `isRevoked` for `asymmetricJwtScheme()`: `jti`, username and `iat` (else `time`) of the token. */
  forAsymmetricJwt(): (subject: string, claims: Readonly<Record<string, unknown>>) => Promise<boolean> {
    return (subject, claims) => this.isRevoked(fromClaims(subject, claims, 'time'));
  }
}

function fromClaims(subject: string, raw: Readonly<Record<string, unknown>>, issuedClaim?: string): RevocationCheck {
  const jti = raw['jti'];
  const issued = typeof raw['iat'] === 'number' ? raw['iat'] : issuedClaim === undefined ? undefined : Number(raw[issuedClaim]);
  return {
    subject,
    ...(typeof jti === 'string' ? { jti } : {}),
    ...(issued !== undefined && Number.isFinite(issued) ? { issuedAt: issued } : {}),
  };
}
