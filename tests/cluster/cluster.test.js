// A real cluster: redis-server, 3 conformance nodes joined to it and nginx in front with plain
// round-robin. The official socket.io-client and ferrio-client, over websocket, polling and
// streaming. Run by tests/cluster/run.sh (which builds the conformance server).

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { ROOT, redisCommand, startCluster, until } from "./harness.js";

const require = createRequire(import.meta.url);
const { io: sio } = require(path.join(ROOT, "tests/js/node_modules/socket.io-client"));
const WebSocket = require(path.join(ROOT, "client-js/node_modules/ws"));
const ferrio = await import(path.join(ROOT, "client-js/src/index.js"));

const FAST = { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 5000 };
const opened = new Set();

/** An official client on `url` (a node or nginx). */
function official(url, opts = {}) {
  const s = sio(url, { ...FAST, ...opts });
  opened.add(s);
  return s;
}

/** A ferrio-client on `url`. */
function bundled(url, opts = {}) {
  const s = ferrio.io(url, { ...FAST, WebSocket, rememberTransport: false, ...opts });
  opened.add(s);
  return s;
}

const connected = (s) =>
  s.connected ? Promise.resolve() : new Promise((resolve, reject) => {
    s.once("connect", resolve);
    s.once("connect_error", (e) => reject(e));
  });

const ask = (s, event, ...args) => s.timeout(8000).emitWithAck(event, ...args);

/** Collects the payloads of `event` on `s`. */
function collect(s, event) {
  const got = [];
  s.on(event, (v) => got.push(v));
  return got;
}

let cluster;
/** The cluster tag of each node for `/socket.io/` and `/recovery/`. */
const tags = [];

async function whoami(url, opts) {
  const s = official(url, { transports: ["websocket"], ...opts });
  await connected(s);
  const me = await ask(s, "whoami");
  s.disconnect();
  opened.delete(s);
  return me.node;
}

before(async () => {
  cluster = await startCluster(3);
  for (const node of cluster.nodes) {
    tags.push({ sio: await whoami(node.url), recovery: await whoami(node.url, { path: "/recovery/" }) });
  }
});

after(async () => {
  for (const s of opened) s.disconnect();
  await cluster?.stop();
});

describe("three nodes as one", () => {
  it("counts three servers, and broadcasts reach every node", async () => {
    const clients = cluster.nodes.map((n) => official(n.url, { transports: ["websocket"] }));
    await Promise.all(clients.map(connected));
    assert.equal((await ask(clients[0], "count")).count, 3);
    const got = clients.map((c) => collect(c, "bcast"));
    await ask(clients[1], "bcast-all", "hello");
    await until(() => got.every((g) => g.length === 1), "the broadcast on every node", 5000);
    assert.deepEqual(got, [["hello"], ["hello"], ["hello"]]);
  });

  it("rooms, remote join / leave / disconnect, fetch_sockets and all_rooms across nodes", async () => {
    const [a, b, c] = cluster.nodes.map((n) => official(n.url, { transports: ["websocket"] }));
    await Promise.all([a, b, c].map(connected));
    await ask(b, "join", "blue");
    const inRoom = [a, b, c].map((s) => collect(s, "room-bcast"));
    await ask(a, "bcast-room", "blue", 1);
    await until(() => inRoom[1].length === 1, "the room broadcast", 5000);
    // c joins "blue" by a remote operation issued on a's node.
    await ask(a, "remote", "join", c.id, "blue");
    // Remote operations go through the stream: they take effect a moment later.
    let fetched;
    await until(async () => (fetched = await ask(a, "fetch", "blue")).sockets?.length === 2, "c in blue", 5000, 20);
    assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [b.id, c.id].sort());
    assert.deepEqual(new Set(fetched.sockets.map((s) => s.node)), new Set([tags[1].sio, tags[2].sio]));
    assert.ok((await ask(c, "all-rooms")).rooms.includes("blue"));
    await ask(a, "bcast-room", "blue", 2);
    await until(() => inRoom[1].length === 2 && inRoom[2].length === 1, "both members", 5000);
    await ask(a, "remote", "leave", c.id, "blue");
    await ask(a, "bcast-room", "blue", 3);
    await until(() => inRoom[1].length === 3, "the third", 5000);
    assert.deepEqual(inRoom[2], [2], "c left the room");
    assert.deepEqual(inRoom[0], [], "a never was in it");
    const gone = new Promise((resolve) => c.once("disconnect", resolve));
    await ask(a, "remote", "disconnect", c.id, "");
    assert.equal(await gone, "io server disconnect");
  });

  it("server-side emits and broadcast acks gather every node's answers", async () => {
    const clients = cluster.nodes.map((n) => official(n.url, { transports: ["websocket"] }));
    await Promise.all(clients.map(connected));
    for (const [i, c] of clients.entries()) c.on("ask", (q, ack) => ack({ i, q }));
    const sse = await ask(clients[0], "sse", "hi");
    assert.deepEqual(sse.answers.map((a) => a.node).sort(), [tags[1].sio, tags[2].sio].sort());
    const acks = await ask(clients[0], "ask-all", "q?");
    const mine = acks.answers.filter((a) => a.q === "q?").map((a) => a.i);
    for (const i of [0, 1, 2]) assert.ok(mine.includes(i), `the answer of node ${i}'s client`);
  });

  for (const [name, make, transports] of [
    ["official polling-only", official, ["polling"]],
    ["ferrio-client polling-only", bundled, ["polling"]],
    ["ferrio-client streaming-only", bundled, ["streaming"]],
    ["official websocket through nginx", official, ["websocket"]],
  ]) {
    it(`${name}: 100 ordered round trips through round-robin`, async () => {
      const s = make(cluster.url, { transports });
      await connected(s);
      const back = collect(s, "echo");
      for (let i = 0; i < 100; i++) {
        s.emit("echo", i);
        await until(() => back.length === i + 1, `echo ${i}`, 5000, 2);
      }
      assert.deepEqual(back, [...Array(100).keys()]);
      const ackd = [];
      for (let i = 0; i < 20; i++) ackd.push(await ask(s, "echo-ack", i));
      assert.deepEqual(ackd, [...Array(20).keys()]);
      s.disconnect();
    });
  }
});

describe("failures", () => {
  it("a stalled node (SIGSTOP) costs at most the request timeout, and stops being counted", async () => {
    const a = official(cluster.nodes[0].url, { transports: ["websocket"] });
    await connected(a);
    const stalled = cluster.nodes[2];
    stalled.proc.signal("SIGSTOP");
    try {
      const t0 = Date.now();
      const first = await ask(a, "fetch", null);
      const took = Date.now() - t0;
      console.log(`[sigstop] fetch_sockets answered in ${took} ms: ${first.error || "complete"}`);
      // Either the node was already counted out, or the request timed out (2 s) for it.
      assert.ok(took < 2600, `fetch_sockets took ${took} ms`);
      if (first.error) assert.match(first.error, /did not answer/);
      // Once its heartbeat is older than the node timeout (1 s), it is not counted.
      await until(async () => (await ask(a, "count")).count === 2, "the stalled node counted out", 5000, 100);
      const t1 = Date.now();
      const second = await ask(a, "fetch", null);
      console.log(`[sigstop] once counted out: fetch_sockets in ${Date.now() - t1} ms, ${second.sockets?.length} sockets`);
      assert.ok(!second.error, second.error);
      assert.ok(Date.now() - t1 < 500, "no wait for the stalled node");
    } finally {
      stalled.proc.signal("SIGCONT");
    }
    await until(async () => (await ask(a, "count")).count === 3, "the node back", 5000, 100);
  });

  it("Redis killed and restarted during traffic: requests fail typed, nodes resume, nothing accepted is lost", async () => {
    const a = official(cluster.nodes[0].url, { transports: ["websocket"] });
    const b = official(cluster.nodes[1].url, { transports: ["websocket"] });
    await Promise.all([a, b].map(connected));
    const got = collect(b, "bcast");
    const sent = [];
    let k = 0;
    const send = async () => {
      await ask(a, "bcast-all", k);
      sent.push(k++);
    };
    for (let i = 0; i < 5; i++) await send();
    await until(() => got.length === 5, "the first events", 5000);
    await cluster.restartRedis(async () => {
      const t0 = Date.now();
      const during = await ask(a, "count");
      console.log(`[redis down] server_count failed in ${Date.now() - t0} ms: ${during.error}`);
      assert.ok(during.error, "a request during the outage fails");
      assert.ok(Date.now() - t0 < 3000, `it failed in ${Date.now() - t0} ms, not a hang`);
      for (let i = 0; i < 5; i++) await send();
    });
    for (let i = 0; i < 5; i++) await send();
    const resumed = await until(async () => (await ask(a, "count")).count === 3, "every node registered again", 10_000, 100);
    console.log(`[redis back] every node registered again ${resumed} ms after the restart`);
    // The other server of each node (/recovery/) resumed too.
    const r = official(cluster.nodes[2].url, { path: "/recovery/", transports: ["websocket"] });
    await connected(r);
    await until(async () => (await ask(r, "count")).count === 3, "/recovery/ registered again", 10_000, 100);
    await send();
    await until(() => got.includes(k - 1), "an event after the restart", 10_000);
    // Every event reached b once, in order (those of the outage were queued and added once
    // Redis was back).
    console.log(`[redis] ${sent.length} events sent, ${got.length} received in order, 5 of them during the outage`);
    assert.deepEqual(got, sent);
  });

  for (const [client, make, transports] of [
    ["an official websocket", official, ["websocket"]],
    ["an official polling", official, ["polling"]],
    ["a ferrio-client streaming", bundled, ["streaming"]],
  ]) {
    it(`SIGKILL of the node that owns ${client} client: back within 5 s, recovered, every event once and in order`, async () => {
      const s = make(cluster.url, { path: "/recovery/", transports });
      await connected(s);
      await ask(s, "join", "kept");
      const owner = tags.findIndex((t) => s.io.engine.id.startsWith(t.recovery));
      assert.ok(owner >= 0, "the owner node is known by the session id");
      const other = cluster.nodes[(owner + 1) % cluster.nodes.length];
      const sender = official(other.url, { path: "/recovery/", transports: ["websocket"] });
      await connected(sender);
      const got = collect(s, "room-bcast");
      const id = s.id;
      await ask(sender, "bcast-room", "kept", 0);
      await until(() => got.length === 1, "the first event", 5000);

      const t0 = Date.now();
      cluster.nodes[owner].proc.signal("SIGKILL");
      try {
      const back = new Promise((resolve) => s.once("connect", () => resolve(Date.now() - t0)));
      for (let i = 1; i <= 10; i++) {
        await ask(sender, "bcast-room", "kept", i);
        await new Promise((r) => setTimeout(r, 50));
      }
      const took = await back;
      console.log(`[kill ${client}] back after ${took} ms, recovered=${s.recovered}`);
      assert.ok(took < 5000, `back after ${took} ms`);
      assert.equal(s.recovered, true, "recovered");
      assert.equal(s.id, id, "same id");
      await until(() => got.length >= 11, "every event", 5000);
      await ask(sender, "bcast-room", "kept", 11);
      await until(() => got.length >= 12, "a later event in the room", 5000);
      assert.deepEqual(got, [...Array(12).keys()]);
      } finally {
        s.disconnect();
        sender.disconnect();
        await cluster.restartNode(owner);
        tags[owner] = {
          sio: await whoami(cluster.nodes[owner].url),
          recovery: await whoami(cluster.nodes[owner].url, { path: "/recovery/" }),
        };
      }
    });
  }

  it("an offset Redis already trimmed gives a fresh session, never a partial replay", async () => {
    const s = official(cluster.url, { path: "/recovery/", transports: ["websocket"] });
    await connected(s);
    await ask(s, "join", "trimmed");
    const owner = tags.findIndex((t) => s.io.engine.id.startsWith(t.recovery));
    const other = cluster.nodes[(owner + 1) % cluster.nodes.length];
    const sender = official(other.url, { path: "/recovery/", transports: ["websocket"] });
    await connected(sender);
    const got = collect(s, "room-bcast");
    const id = s.id;
    await ask(sender, "bcast-room", "trimmed", 0);
    await until(() => got.length === 1, "the first event", 5000);
    // Everything the stream held goes, the client's offset included.
    const trimmed = await redisCommand(cluster.redis.port, "XTRIM", `${cluster.prefix}-recovery:stream:/`, "MAXLEN", "0");
    assert.match(trimmed, /^:\d+$/);
    cluster.nodes[owner].proc.signal("SIGKILL");
    try {
      const back = new Promise((resolve) => s.once("connect", resolve));
      await ask(sender, "bcast-room", "trimmed", 1);
      await back;
      assert.equal(s.recovered, false, "not recovered");
      assert.notEqual(s.id, id, "a new socket");
      await ask(sender, "bcast-room", "trimmed", 2);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(got, [0], "nothing replayed, and the new socket is in no room");
    } finally {
      s.disconnect();
      sender.disconnect();
      await cluster.restartNode(owner);
      tags[owner] = {
        sio: await whoami(cluster.nodes[owner].url),
        recovery: await whoami(cluster.nodes[owner].url, { path: "/recovery/" }),
      };
    }
  });
});
