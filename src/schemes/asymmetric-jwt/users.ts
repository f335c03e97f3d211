/**
 * Start-up checks of a static asymmetric JWT user map. A lookup function is the application's own
 * code and is read per request instead (bad keys are then skipped with a warning).
 */
import { publicKeyOption } from '../../keys/import.js';
import type { RemoteJwks } from '../../keys/remote-jwks.js';
import { describeValue, enumOption, httpsUrlOption, numberOption, optionError } from '../../lib/options.js';
import { loadPublicKey, primeStoredKey, type AsymmetricJwtKeySource, type AsymmetricJwtUser } from './keys.js';

const USERS_EXPECTED = 'a map of username → { publicKeys, jwks } (an object or a Map) or a lookup function';

/** Checks one user record and primes its parsed keys. */
function checkUser(name: string, user: unknown, where: string, remote: (url: string) => RemoteJwks): void {
  const at = `users.${name}`;
  if (typeof user !== 'object' || user === null || Array.isArray(user))
    throw optionError(where, at, 'an object { publicKeys, jwks, kind, scopes, level }', describeValue(user));
  const record = user as AsymmetricJwtUser;
  if (record.publicKeys !== undefined && !Array.isArray(record.publicKeys))
    throw optionError(where, `${at}.publicKeys`, 'an array of public keys', describeValue(record.publicKeys));
  if (record.jwks !== undefined && !Array.isArray(record.jwks))
    throw optionError(where, `${at}.jwks`, 'an array of JWK Set URLs', describeValue(record.jwks));
  const keys = record.publicKeys ?? [];
  const jwks = record.jwks ?? [];
  if (keys.length === 0 && jwks.length === 0) {
    throw optionError(
      where,
      at,
      'a user with at least one key in "publicKeys" or a URL in "jwks"',
      keys === record.publicKeys ? 'publicKeys: []' : 'neither',
    );
  }
  keys.forEach((key, i) => primeStoredKey(key, publicKeyOption(key, where, `${at}.publicKeys[${i}]`, loadPublicKey)));
  jwks.forEach((trust, i) => {
    if (typeof trust !== 'string') return;
    remote(httpsUrlOption(trust, where, `${at}.jwks[${i}]`));
  });
  if (record.kind !== undefined) enumOption(record.kind, ['service', 'user'], undefined, where, `${at}.kind`);
  if (record.level !== undefined) numberOption(record.level, 0, where, `${at}.level`);
  if (record.scopes !== undefined && !(Array.isArray(record.scopes) && record.scopes.every((s) => typeof s === 'string'))) {
    throw optionError(where, `${at}.scopes`, 'an array of strings', describeValue(record.scopes));
  }
}

/**
 * Checks the `users` option: a lookup function passes as is; a map must name at least one user, and
 * every user needs a usable key or JWKS URL.
 * @throws TypeError `<where>: "users…" must be …`
 */
export function checkUserSource(users: AsymmetricJwtKeySource | undefined, where: string, remote: (url: string) => RemoteJwks): void {
  if (typeof users === 'function') return;
  if (typeof users !== 'object' || users === null || Array.isArray(users))
    throw optionError(where, 'users', USERS_EXPECTED, describeValue(users));
  const entries: Array<[string, unknown]> =
    users instanceof Map ? [...(users as ReadonlyMap<string, unknown>).entries()] : Object.entries(users);
  if (entries.length === 0)
    throw optionError(where, 'users', 'a map naming at least one user', users instanceof Map ? 'an empty Map' : 'an empty object');
  for (const [name, user] of entries) checkUser(name, user, where, remote);
}
