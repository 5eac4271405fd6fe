// Transport negotiation: which rungs of the ladder websocket -> streaming -> polling to try,
// from which one, and how long each attempt may take. Remembers, per origin and path, the
// transport that last connected and the last measured round trip.

export const LADDER = ["websocket", "streaming", "polling"];

const env = globalThis;

/** Whether this environment (or the overrides in `options`) can run transport `name`. */
export function available(name, options) {
  const fetch = options.fetch || env.fetch;
  if (name == "websocket") return !!(options.WebSocket || env.WebSocket);
  if (name == "streaming") return !!(options.EventSource || env.EventSource || (fetch && env.ReadableStream));
  return !!(fetch || env.XMLHttpRequest);
}

const storage = () => {
  try {
    return env.localStorage;
  } catch {}
};

/** What was remembered under `key`: {transport?, rtt?}. */
export function recall(key) {
  try {
    const { transport, rtt } = JSON.parse(storage().getItem(key));
    return { transport, rtt: rtt > 0 && rtt < 6e4 ? rtt : undefined };
  } catch {
    return {};
  }
}

/** Remembers the transport that connected and the round trip it measured. */
export function remember(key, transport, rtt) {
  try {
    storage().setItem(key, JSON.stringify({ transport, rtt }));
  } catch {}
}

/**
 * The rungs to try, in order: those of `options.transports` (default: the whole ladder, in its
 * order) that this environment can run, starting from the remembered one (those above it come
 * last) — or, after `below` was lost mid-session, from the rung under it. Also returns the
 * remembered round trip.
 */
export function plan(options, key, below) {
  const order = (options.transports || LADDER).filter((t) => LADDER.includes(t) && available(t, options));
  const { transport, rtt } = options.rememberTransport ? recall(key) : {};
  // After losing `below` mid-session, start on the rung under it (and probe back up later).
  const lost = order.indexOf(below);
  const i = lost >= 0 && order[lost + 1] ? lost + 1 : order.indexOf(transport);
  // The rungs from i on, then those above it (splice takes them off `order` first).
  return { order: order.concat(order.splice(0, i)), rtt };
}

/**
 * How long an attempt may wait for the open packet: 4 round trips with a 1 s floor (3 s while
 * no round trip was measured), doubled on each reconnection attempt, capped by `timeout`.
 * The last rung has nothing to fall back to and gets the whole `timeout`.
 */
export const deadline = (rtt, timeout, attempt = 0, last = false) =>
  last ? timeout : Math.min(timeout, (rtt ? Math.max(1000, 4 * rtt) : 3000) * 2 ** attempt);

/**
 * How long a websocket that opened may take to deliver the open packet, from its `open` event:
 * twice the time the connection took to open (a slow network is slow for both: the open
 * packet needs at most one more trip), at least 500 ms, capped by `timeout`. The server sends
 * the open packet right after the 101 response, so silence past this means a proxy that
 * answered the upgrade and forwards nothing. (A wrong verdict costs a detour, not websocket:
 * from the next rung the engine probes websocket again and upgrades.)
 */
export const silence = (opened, timeout) => Math.min(timeout, Math.max(500, 2 * opened));
