// ferrio-client: Socket.IO v5 events, acks, rooms and binary over WebSocket, streaming (SSE)
// or long-polling, with automatic fallback down that ladder and upgrade back to websocket.
//
//   import { io } from "/socket.io/ferrio.js";
//   const socket = io();              // or io("https://host/namespace", options)
//   socket.on("chat", (msg) => …);
//   socket.emit("chat", "hello");

import { Manager } from "./manager.js";
import { Socket } from "./socket.js";
import { dict } from "./emitter.js";

/** The shared Managers, by origin and path. */
const cache = dict();

/**
 * A Socket for the namespace of `uri` (its path; default "/"). Sockets of one origin and
 * `path` share one Manager (one connection) unless `forceNew` or `multiplex: false`, or the
 * namespace already has a socket there.
 */
export function io(uri, opts) {
  if (uri && typeof uri == "object" && !(uri instanceof URL)) [uri, opts] = [undefined, uri];
  opts = { ...opts };
  const url = new URL(uri || "/", globalThis.location?.href);
  if (url.search && !opts.query) opts.query = url.search.slice(1);
  const id = url.origin + (opts.path || "/socket.io/");
  const nsp = decodeURIComponent(url.pathname) || "/";
  const shared = cache[id];
  const manager =
    opts.forceNew || opts.multiplex === false || (shared && nsp in shared.nsps)
      ? new Manager(url, opts)
      : (cache[id] = shared || new Manager(url, opts));
  return manager.socket(nsp, opts);
}

export { io as connect, io as default, Manager, Socket };
export { LADDER } from "./ladder.js";
/** The Socket.IO protocol revision spoken. */
export const protocol = 5;
