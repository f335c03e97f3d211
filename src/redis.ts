/**
 * `authnz-express/redis`: Redis-backed stores. Import this subpath only where several instances
 * share state; the main entry never loads a Redis client.
 */
export {};
