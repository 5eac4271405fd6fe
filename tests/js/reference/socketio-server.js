// The reference for ferrio's Socket.IO tests: the official `socket.io` server (v4) serving the
// same contract as ferrio's conformance server (tests/src/conformance.rs) on /socket.io/, with the
// same settings. It also serves the raw Engine.IO echo of reference/engine-server.js on
// /engine.io/, so this one process can stand in for the whole conformance binary:
//
//   PORT=3111 node tests/js/reference/socketio-server.js
//   FERRIO_SERVER_CMD="node tests/js/reference/socketio-server.js" bash tests/js/run.sh
//
// The contract, on namespaces `/`, `/custom` and `/admin`:
// - on connect: emit `auth` with the handshake auth payload (`{}` when none);
// - `echo`(...args) -> emit `echo`(...args);  `message`(...args) -> emit `message-back`(...args);
// - `echo-ack`, `message-with-ack`(...args, ack) -> ack(...args);
// - `join` / `leave`(room, ack?) -> join / leave the room, ack(room);
// - `room-broadcast`(room, ...args, ack) -> `room-message`(room, ...args) to the room except the
//   sender, then ack();
// - `server-ask`(...args) -> emit `question`(...args) with an ack; the answer's arguments come
//   back as `answer-received`;
// - `bye` -> disconnect this socket; `drop` -> close the whole Engine.IO session;
// - `/admin` only lets in the auth `{"token":"secret"}`, otherwise CONNECT_ERROR `unauthorized`
//   with data `{"code":"E_UNAUTHORIZED"}`.

"use strict";

const http = require("node:http");
const { isDeepStrictEqual } = require("node:util");
const { Server: EngineServer } = require("engine.io");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);

// pingInterval 300 ms, pingTimeout 200 ms, upgradeTimeout 1 s, maxPayload 1e6, CORS for all.
const engineOptions = {
  pingInterval: 300,
  pingTimeout: 200,
  upgradeTimeout: 1000,
  maxHttpBufferSize: 1e6,
  transports: ["polling", "websocket"],
  cors: { origin: "*" },
};

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

// The raw Engine.IO echo, as in reference/engine-server.js.
const engine = new EngineServer(engineOptions);
engine.attach(httpServer, { path: "/engine.io/" });
engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

const io = new Server(httpServer, {
  ...engineOptions,
  path: "/socket.io/",
  connectTimeout: 1000,
  serveClient: false,
});

/** Splits a handler's arguments into the payload and the trailing ack function, if any. */
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

function onConnection(socket) {
  socket.emit("auth", socket.handshake.auth);

  socket.on("echo", (...args) => socket.emit("echo", ...splitAck(args)[0]));
  socket.on("message", (...args) => socket.emit("message-back", ...splitAck(args)[0]));
  for (const event of ["echo-ack", "message-with-ack"]) {
    socket.on(event, (...all) => {
      const [args, ack] = splitAck(all);
      if (ack) ack(...args);
    });
  }
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("room-broadcast", (...all) => {
    const [args, ack] = splitAck(all);
    if (typeof args[0] !== "string") return;
    socket.to(args[0]).emit("room-message", ...args);
    if (ack) ack();
  });
  socket.on("server-ask", (...all) => {
    const [args] = splitAck(all);
    socket.emit("question", ...args, (...answer) => socket.emit("answer-received", ...answer));
  });
  socket.on("bye", () => socket.disconnect());
  socket.on("drop", () => socket.conn.close());
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (isDeepStrictEqual(socket.handshake.auth, { token: "secret" })) return next();
  const err = new Error("unauthorized");
  err.data = { code: "E_UNAUTHORIZED" };
  next(err);
});
admin.on("connection", onConnection);

// The chat tutorial on /chat/: the contract of Socket.IO's examples/chat as ferrio's
// server/examples/socketio-chat ports it. `add user` (once) -> `login` {numUsers} to the user and
// `user joined` {username, numUsers} to the others; `new message`, `typing` and `stop typing`
// relayed to the others with the sender's name; a logged-in user leaving -> `user left`. Events
// of a client that has not logged in are ignored (the tutorial relays them with no name).
const chat = new Server(httpServer, { ...engineOptions, path: "/chat/", serveClient: false });
let chatUsers = 0;
chat.on("connection", (socket) => {
  let name = null;
  const others = (event, data) => socket.broadcast.emit(event, data);
  socket.on("add user", (username) => {
    if (name !== null) return;
    name = username;
    chatUsers += 1;
    socket.emit("login", { numUsers: chatUsers });
    others("user joined", { username: name, numUsers: chatUsers });
  });
  socket.on("new message", (message) => {
    if (name !== null) others("new message", { username: name, message });
  });
  for (const event of ["typing", "stop typing"]) {
    socket.on(event, () => {
      if (name !== null) others(event, { username: name });
    });
  }
  socket.on("disconnect", () => {
    if (name === null) return;
    chatUsers -= 1;
    others("user left", { username: name, numUsers: chatUsers });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`socket.io reference server listening on http://127.0.0.1:${port}`);
});

function shutdown() {
  io.close();
  chat.close();
  engine.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
