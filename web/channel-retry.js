// When the channel client tries again, as the official SDKs decide it.

/** Reply errors worth trying again: `temporary`, or a code below 100 (transport-level). */
export function isTemporary(error) {
  return Boolean(error && (error.temporary || error.code < 100));
}

/** Jittered exponential backoff: between half and all of min * 2^attempt, capped at max (ms). */
export function backoff(attempt, min, max) {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
