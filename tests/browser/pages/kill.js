// The browser side of tests/browser/kill.test.js. Query string:
//   client=<url>   module to import `io` from (default /socket.io/ferrio.js)
//   path=<path>    the server's mount path (default /recovery/: connection state recovery on)
//   room=<name>    the room to join once connected; its `room-message` numbers are recorded
//
// Everything lands on `window.__kill`, times as Date.now() (the test compares them with its own
// clock on the same machine). Storage is cleared first: the client starts on websocket.
// Before the client is imported, EventSource, WebSocket and fetch are wrapped so that
// `window.__kill.trace` records what went over the wire (for failure reports only).

const params = new URLSearchParams(location.search);
const clientUrl = params.get("client") || "/socket.io/ferrio.js";
const path = params.get("path") || "/recovery/";
const room = params.get("room") || "kill";

const state = {
  room,
  error: null,
  joined: null,
  transports: [], // {name, at}: the socket's `transport` events
  connects: [], // {at, id, recovered, transport, negotiation}
  disconnects: [], // {at, reason, transport}
  connectErrors: [],
  managerEvents: [],
  numbers: [], // the n of every room-message for `room`, in arrival order
  arrivals: [], // {n, at, transport}
  others: [], // any other room-message
};
window.__kill = state;

// ---- the wire trace: [at, what, transport (and sid), data…] --------------------------------
const trace = (state.trace = []);
const log = (...a) => trace.length < 20000 && trace.push([Date.now(), ...a]);
const label = (u) => String(u).replace(/^.*[?&]transport=/, "");
const text = (d) => (typeof d === "string" ? d.slice(0, 80) : `<${d?.constructor?.name}>`);
if (globalThis.EventSource) {
  const ES = globalThis.EventSource;
  globalThis.EventSource = class extends ES {
    constructor(url, opts) {
      super(url, opts);
      const id = (this._id = label(url));
      log("es-new", id);
      this.addEventListener("open", () => log("es-open", id));
      this.addEventListener("message", (m) => log("es-msg", id, text(m.data)));
      this.addEventListener("error", () => log("es-error", id, this.readyState));
    }
    close() {
      log("es-close", this._id);
      super.close();
    }
  };
}
if (globalThis.WebSocket) {
  const WS = globalThis.WebSocket;
  globalThis.WebSocket = class extends WS {
    constructor(url, protocols) {
      super(url, protocols);
      const id = (this._id = label(url));
      log("ws-new", id);
      this.addEventListener("open", () => log("ws-open", id));
      this.addEventListener("message", (m) => log("ws-msg", id, text(m.data)));
      this.addEventListener("close", (e) => log("ws-closed", id, e.code, e.wasClean));
      this.addEventListener("error", () => log("ws-error", id));
    }
    send(data) {
      log("ws-send", this._id, text(data));
      super.send(data);
    }
    close(code, reason) {
      log("ws-close", this._id);
      super.close(code, reason);
    }
  };
}
if (globalThis.fetch) {
  const fetch = globalThis.fetch;
  globalThis.fetch = (url, opts = {}) => {
    const m = opts.method || "GET";
    const id = label(url);
    log("fetch", m, id, text(opts.body ?? ""));
    return fetch(url, opts).then(
      (r) => (log("fetch-done", m, id, r.status), r),
      (e) => (log("fetch-error", m, id, String(e)), Promise.reject(e)),
    );
  };
}

const show = (id, text) => {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
};

try {
  localStorage.clear();
  const { io } = await import(clientUrl);
  const socket = io(location.origin, { path, forceNew: true });
  window.__socket = socket;

  socket.on("transport", (name) => {
    state.transports.push({ name, at: Date.now() });
    show("transport", name);
  });
  socket.on("connect", () => {
    state.connects.push({
      at: Date.now(),
      id: socket.id,
      recovered: socket.recovered,
      transport: socket.transport,
      negotiation: JSON.parse(JSON.stringify(socket.io.negotiation ?? null)),
    });
    if (state.joined == null) {
      state.joined = false;
      socket
        .timeout(4000)
        .emitWithAck("join", room)
        .then((r) => (state.joined = r), (e) => (state.error = `join: ${e.message}`));
    }
  });
  socket.on("disconnect", (reason) => state.disconnects.push({ at: Date.now(), reason: String(reason), transport: socket.transport }));
  socket.on("connect_error", (err) => state.connectErrors.push({ at: Date.now(), message: err.message }));
  for (const ev of ["open", "close", "error", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed"]) {
    socket.io.on(ev, (arg) => state.managerEvents.push({ ev, at: Date.now(), arg: arg instanceof Error ? arg.message : arg ?? null }));
  }
  socket.on("room-message", (r, n) => {
    if (r !== room) return state.others.push([r, n]);
    state.numbers.push(n);
    state.arrivals.push({ n, at: Date.now(), transport: socket.transport });
    show("count", String(state.numbers.length));
  });
} catch (err) {
  state.error = String(err?.stack || err);
}
