// The reference for ferrio's Engine.IO wire tests: the official `engine.io` server configured
// like ferrio's conformance server (tests/src/conformance.rs): a raw echo on /engine.io/, where
// every message, text or binary, is sent back as is.
//
//   PORT=3111 node tests/js/reference/engine-server.js
//   FERRIO_E2E_URL=http://127.0.0.1:3111 cargo test -p ferrio-tests --test e2e -- --skip streaming

"use strict";

const http = require("node:http");
const { Server } = require("engine.io");

const port = Number(process.env.PORT || 3000);

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

const engine = new Server({
  pingInterval: 300,
  pingTimeout: 200,
  upgradeTimeout: 1000,
  maxHttpBufferSize: 1e6,
  transports: ["polling", "websocket"],
  cors: { origin: "*" },
});
engine.attach(httpServer, { path: "/engine.io/" });

engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`engine.io reference server listening on http://127.0.0.1:${port}`);
});

function shutdown() {
  engine.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
