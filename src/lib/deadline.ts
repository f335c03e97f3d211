/**
 * The deadline timer used for every dependency call (Redis, rate-limit stores, KMS). A plain
 * `setTimeout` is unfair to a busy process: Node runs expired timers before it reads sockets, so when
 * one turn of the event loop takes longer than a deadline (a loaded machine, a long synchronous
 * verification), an answer that arrived in time is still unread when its deadline fires, and a
 * healthy dependency answers 503 (seen in the soak: one slow turn became a burst of 503s).
 */

/** A started deadline; `clear()` once the call has settled. */
export interface Deadline {
  clear(): void;
}

/**
 * Calls `expire` once `timeoutMs` have passed and the I/O already waiting in that turn of the event
 * loop has been handled (one `setImmediate` after the timer: the check phase follows the poll phase),
 * unless `clear()` was called first. A dependency that really is late still expires within about one
 * loop turn of `timeoutMs`.
 */
export function startDeadline(timeoutMs: number, expire: () => void, options: { unref?: boolean } = {}): Deadline {
  let cleared = false;
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(() => {
      if (!cleared) expire();
    });
  }, timeoutMs);
  if (options.unref === true) timer.unref();
  return {
    clear() {
      cleared = true;
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    },
  };
}
