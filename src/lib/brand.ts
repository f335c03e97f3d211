/**
 * Brands that recognise this library's classes without `instanceof`. `instanceof` compares class
 * objects, so it fails whenever two copies of a class are loaded: an ESM and a CJS build in one
 * process, two installed versions, or a bundler that duplicated a module. A brand is a
 * `Symbol.for` key on the class prototype (the registry is process-wide), so every copy of the
 * class, and every subclass, carries the same key.
 */

/** Constructors that can be branded (abstract ones included). */
type AnyClass = abstract new (...args: never[]) => object;

/** The registry key of a brand, e.g. `brandKey('AuthError')` is `Symbol.for('authnz-express.AuthError')`. */
export function brandKey(name: string): symbol {
  return Symbol.for(`authnz-express.${name}`);
}

/** Stamps the brand `key` on the prototype of `ctor`, non-enumerable, so instances never show it. */
export function brand(ctor: AnyClass, key: symbol): void {
  Object.defineProperty(ctor.prototype, key, { value: true, enumerable: false, writable: false, configurable: false });
}

/** True when `value` is an object carrying the brand `key` (own or inherited). */
export function hasBrand(value: unknown, key: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[key] === true;
}

/**
 * Brands `ctor` and returns its type guard, so a class needs one line for both:
 * `export const isJwsError = brandedGuard(JwsError, 'JwsError');`.
 */
export function brandedGuard<T extends object>(ctor: abstract new (...args: never[]) => T, name: string): (value: unknown) => value is T {
  const key = brandKey(name);
  brand(ctor, key);
  return (value: unknown): value is T => hasBrand(value, key);
}
