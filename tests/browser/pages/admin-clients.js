// The browser side of tests/browser/admin-ui.test.js: test clients for the admin UI to see,
// each on its own connection with one transport (so the UI has one of each to show), in rooms
// the server joins them to from their auth payload (tests/src/admin_ui.rs). Query string:
//   client=<url>   module to import `io` from (default /socket.io/ferrio.js)
//
// window.__clients[name] = { nsp, transport, rooms, id, connected, disconnects: [reason…] };
// window.__clientsError holds a failure to load the client.

const params = new URLSearchParams(location.search);
const clientUrl = params.get("client") || "/socket.io/ferrio.js";

export const CLIENTS = {
  ws: { nsp: "/", transport: "websocket", rooms: ["lobby"] },
  polling: { nsp: "/", transport: "polling", rooms: ["lobby", "rust"] },
  streaming: { nsp: "/", transport: "streaming", rooms: ["random"] },
  chat: { nsp: "/chat", transport: "websocket", rooms: ["general"] },
};

const state = (window.__clients = {});
const list = document.getElementById("clients");

function show(name) {
  const c = state[name];
  let item = document.getElementById(`client-${name}`);
  if (!item) {
    item = document.createElement("li");
    item.id = `client-${name}`;
    list.append(item);
  }
  item.textContent = `${name}: ${c.nsp} ${c.transport} ${c.id ?? "…"} ${c.connected ? "connected" : "disconnected"} ${c.disconnects.join(", ")}`;
}

try {
  localStorage.clear(); // no remembered transport: each client starts on the one it is given
  const { io } = await import(clientUrl);
  for (const [name, spec] of Object.entries(CLIENTS)) {
    state[name] = { ...spec, id: null, connected: false, disconnects: [] };
    const socket = io(spec.nsp, {
      forceNew: true,
      transports: [spec.transport],
      rememberTransport: false,
      auth: { rooms: spec.rooms },
    });
    socket.on("connect", () => {
      Object.assign(state[name], { id: socket.id, connected: true, transport: socket.transport });
      show(name);
    });
    socket.on("disconnect", (reason) => {
      state[name].connected = false;
      state[name].disconnects.push(reason);
      show(name);
    });
    show(name);
  }
} catch (err) {
  window.__clientsError = String(err && err.stack || err);
}
