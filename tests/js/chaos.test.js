// Nothing lost where the fallback ladder puts clients: ferrio-client on each forced transport
// (websocket, streaming, polling) and on the default ladder talks to the conformance server's
// `/recovery/` path (connection state recovery on) through a TCP proxy written here, which
// cuts its connections at random points: the TCP connection reset, a request or frame
// forwarded then the connection killed before the answer, a request swallowed, an answer
// (a polling response, stream events, websocket frames) dropped and the connection killed.
// Meanwhile each client sends COUNT numbered acked messages up (`numbered`, with `retries`:
// the server relays each to the client's room) and the server sends COUNT numbered messages
// down asking for an ack (`send-me`), one after another. Asserted, per client: every message
// handled exactly once and in order on both sides, every ack resolved once, the room relay
// complete and in order, `recovered` true after every reconnection, and the cuts done.
//
// The same run with the official socket.io-client (its own `retries`; websocket, polling and
// its default) prints what it gets: duplicates and losses are counted, not asserted.
//
// The cuts are placed by a PRNG whose seed is printed; CHAOS_SEED=<seed> replays the same
// plan (the moments still depend on timing). CHAOS_COUNT (default 2000) and CHAOS_CUTS
// (default 12) change the sizes; CHAOS_DEBUG=1 prints what a client saw around its first
// duplicate down message. The server handlers are in tests/src/conformance.rs (`mod
// chaos`). FERRIO_URL: the conformance server (default http://127.0.0.1:3000); the file is
// skipped against a server without `/recovery/` (the Node reference).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import WebSocket from "ws";
import { io as official } from "socket.io-client";
import { io as ferrio } from "../../client-js/src/index.js";

const URL_ = process.env.FERRIO_URL || "http://127.0.0.1:3000";
const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : (Math.random() * 2 ** 32) >>> 0;
const COUNT = Number(process.env.CHAOS_COUNT || 2000);
const CUTS = Number(process.env.CHAOS_CUTS || 12);
/** Upper bound of a ferrio-client run; the official client's runs get OFFICIAL_MS. */
const RUN_MS = 40_000;
const OFFICIAL_MS = 6_000;
const WAIT_MS = 5000;

console.log(`chaos: seed ${SEED} (replay with CHAOS_SEED=${SEED}), ${COUNT} messages each way, ${CUTS} cuts a run`);

/** mulberry32: a small seeded PRNG, [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed of its own for each run, from SEED and the run's name. */
const seedOf = (name) => [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, SEED ^ 2166136261);

const MODES = ["reset", "request-then-kill", "swallow-request", "drop-answer"];

/**
 * A TCP proxy on 127.0.0.1 to `upstream` (a URL) whose connections `cut(mode)` breaks:
 * - "reset": every live connection reset (RST) on both sides, at once;
 * - "request-then-kill": the next bytes the client sends reach the server, then the client's
 *   connection is reset (the server may act on them; its answer is lost);
 * - "swallow-request": the next bytes the client sends are dropped and its connection reset;
 * - "drop-answer": the next bytes the server sends are dropped and that connection reset.
 * The last three wait, in order, for the traffic they need. `stats` counts connections and
 * cuts done; `pending()` the cuts still waiting.
 */
async function startProxy(upstream) {
  const { hostname, port } = new URL(upstream);
  const pairs = new Set();
  const stats = { connections: 0, cuts: 0, byMode: {} };
  /** The cuts waiting for traffic, first in first out. */
  const armed = [];
  const done = (mode) => {
    stats.cuts++;
    stats.byMode[mode] = (stats.byMode[mode] || 0) + 1;
  };
  const kill = (pair, upstreamToo = true) => {
    pairs.delete(pair);
    pair.dead = true;
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    // Half-closed, the server still reads what it got (and its answer goes nowhere).
    if (upstreamToo) pair.upstream.resetAndDestroy();
    else pair.upstream.end();
  };
  const server = net.createServer((client) => {
    stats.connections++;
    const upstreamSocket = net.connect(Number(port), hostname);
    const pair = { client, upstream: upstreamSocket, dead: false };
    pairs.add(pair);
    const end = () => {
      if (pair.dead) return;
      pairs.delete(pair);
      pair.dead = true;
      client.destroy();
      upstreamSocket.destroy();
    };
    for (const socket of [client, upstreamSocket]) {
      socket.setNoDelay(true);
      socket.on("error", end);
      socket.on("close", end);
    }
    client.on("data", (chunk) => {
      if (pair.dead) return;
      if (armed[0] == "request-then-kill" || armed[0] == "swallow-request") {
        const mode = armed.shift();
        done(mode);
        if (mode == "swallow-request") return kill(pair);
        return upstreamSocket.write(chunk, () => kill(pair, false));
      }
      upstreamSocket.write(chunk);
    });
    upstreamSocket.on("data", (chunk) => {
      if (pair.dead) return;
      if (armed[0] == "drop-answer") {
        done(armed.shift());
        return kill(pair);
      }
      client.write(chunk);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    pending: () => armed.length,
    cut(mode) {
      if (mode != "reset") return void armed.push(mode);
      done(mode);
      for (const pair of [...pairs]) kill(pair);
    },
    close() {
      armed.length = 0;
      for (const pair of [...pairs]) kill(pair);
      server.close();
    },
  };
}

/** The progress points (of 2 × COUNT: up acks + down messages) where the run cuts. */
function cutPlan(random) {
  const total = 2 * COUNT;
  const points = Array.from({ length: CUTS }, () => Math.floor(total * (0.05 + 0.8 * random())));
  return points.sort((a, b) => a - b).map((at) => ({ at, mode: MODES[Math.floor(random() * MODES.length)] }));
}

/** Resolves once `cond()` holds, checked on each `check()` call; rejects after `ms`. */
function waiter(cond, ms, what) {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`timed out (${ms} ms) waiting for ${what()}`)), ms);
  const check = () => {
    if (cond()) {
      clearTimeout(timer);
      resolve();
    }
  };
  return { promise, check, stop: () => clearTimeout(timer) };
}

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

/** Which numbers of 1..COUNT `list` misses, and which it has more than once. */
function tally(list) {
  const seen = new Map();
  for (const n of list) seen.set(n, (seen.get(n) || 0) + 1);
  const missing = range(COUNT).filter((n) => !seen.has(n));
  const duplicated = [...seen].filter(([, k]) => k > 1).map(([n]) => n);
  const inOrder = list.every((n, i) => i == 0 || n > list[i - 1]);
  return { received: list.length, missing: missing.length, duplicated: duplicated.length, inOrder };
}

/**
 * One client's run through its own proxy: join a room, ask for the down stream, send the up
 * stream, cut at the planned points, then ask the server for its report. `make(url, opts)`
 * builds the client; `retries`-style options are given by the caller. Returns what both sides
 * saw.
 */
async function run(name, make, opts, { deadline, reportTries = [] }) {
  const random = prng(seedOf(name));
  const plan = cutPlan(random);
  const proxy = await startProxy(URL_);
  const room = `chaos-${name}-${SEED}`;
  const socket = make(proxy.url, { path: "/recovery/", forceNew: true, ...opts });
  const seen = { upAcks: [], upErrors: [], relayed: [], down: [], connects: [], transports: new Set(), disconnects: [] };
  let progress = 0;
  const finished = waiter(
    // Every up message answered, and the last of each stream arrived.
    () => seen.upAcks.length + seen.upErrors.length >= COUNT && seen.relayed.includes(COUNT) && seen.down.includes(COUNT),
    deadline,
    () =>
      `${name} to finish: ${seen.upAcks.length} up acks, ${seen.upErrors.length} up errors, ` +
      `${seen.relayed.length} relayed, ${seen.down.length} down`,
  );
  const step = () => {
    progress++;
    while (plan.length && progress >= plan[0].at) {
      const cut = plan.shift();
      seen.timeline.push(`cut ${cut.mode}`);
      proxy.cut(cut.mode);
    }
    finished.check();
  };
  seen.timeline = [];
  socket.on("connect", () => {
    seen.timeline.push(`connect(${socket.recovered})`);
    seen.connects.push(socket.recovered);
    seen.transports.add(socket.io.engine?.transport?.name ?? socket.transport);
  });
  socket.on("disconnect", (reason) => (seen.disconnects.push(reason), seen.timeline.push(`disconnect(${reason})`)));
  socket.on("relayed", (n) => {
    seen.relayed.push(n);
    finished.check();
  });
  socket.on("down", (n, ...rest) => {
    const ack = rest.pop();
    seen.timeline.push(`down ${n} ${rest[0]}`);
    seen.down.push(n);
    ack(n);
    step();
  });
  const t0 = Date.now();
  let report;
  try {
    assert.equal(await socket.timeout(WAIT_MS).emitWithAck("join", room), room);
    await socket.timeout(WAIT_MS).emitWithAck("send-me", COUNT);
    for (const n of range(COUNT)) {
      socket.emit("numbered", room, n, (err, value) => {
        if (err) seen.upErrors.push([n, err.message]);
        else seen.upAcks.push([n, value]);
        step();
      });
    }
    await finished.promise.catch((err) => (seen.timedOut = err.message));
    report = await ask(socket, "report", ...reportTries).catch((err) => ({ error: err.message }));
  } finally {
    finished.stop();
    seen.ms = Date.now() - t0;
    seen.cuts = { ...proxy.stats, pending: proxy.pending() };
    socket.disconnect();
    proxy.close();
  }
  return { seen, report };
}

/**
 * Emits `event` with an ack outside the retry queue (volatile: sent now or not at all), up
 * to 5 times, waiting for the connection when it is down.
 */
async function ask(socket, event, tries = 5, ms = WAIT_MS) {
  let last;
  for (let i = 0; i < tries; i++) {
    try {
      if (!socket.connected) await within(new Promise((resolve) => socket.once("connect", resolve)), ms, "a connection");
      return await socket.volatile.timeout(ms).emitWithAck(event);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out (${ms} ms) waiting for ${what}`)), ms))),
  ]);
}

/** One line of what a run got. */
function summary(name, { seen, report }) {
  const up = tally(seen.upAcks.map(([n]) => n));
  const handled = report?.up ? tally(report.up) : null;
  const lines = [
    `${name}: ${seen.ms} ms, transports ${[...seen.transports].join("/")}, cuts ${seen.cuts.cuts} ${JSON.stringify(seen.cuts.byMode)}, ` +
      `${seen.cuts.connections} connections, reconnections ${seen.connects.length - 1} ` +
      `(recovered ${seen.connects.slice(1).filter(Boolean).length})`,
    `  up:   acks ${JSON.stringify(up)}, errors ${seen.upErrors.length}; server handled ${handled ? JSON.stringify(handled) : JSON.stringify(report)}`,
    `  room: relayed ${JSON.stringify(tally(seen.relayed))}`,
    `  down: client handled ${JSON.stringify(tally(seen.down))}; server got acks ${report?.downAcks?.length ?? "?"}, ` +
      `ack errors ${report?.downErrors?.length ?? "?"}${seen.timedOut ? `\n  ${seen.timedOut}` : ""}`,
  ];
  if (process.env.CHAOS_DEBUG) {
    const downs = seen.down;
    const dup = downs.findIndex((n, i) => downs.indexOf(n) != i);
    if (dup >= 0) {
      const at = seen.timeline.findIndex((t) => t.startsWith(`down ${downs[dup]} `));
      lines.push(seen.timeline.slice(Math.max(0, at - 10), at + 30).join("\n"));
    }
  }
  return lines.join("\n");
}

let serves = true;
before(async () => {
  // The Node reference has no /recovery/ path: nothing to test there.
  const res = await fetch(`${URL_}/recovery/?EIO=4&transport=polling`).catch(() => null);
  serves = res?.status == 200;
  await res?.text();
});

const FERRIO_RUNS = [
  { name: "websocket", transports: ["websocket"] },
  { name: "streaming", transports: ["streaming"] },
  { name: "polling", transports: ["polling"] },
  { name: "ladder", transports: undefined },
];

/** What each run got, printed at the end. */
const results = {};
after(() => {
  for (const [name, result] of Object.entries(results)) console.log(summary(name, result));
});

describe("chaos: cuts at random points, nothing lost", () => {
  for (const { name, transports } of FERRIO_RUNS) {
    it(`ferrio-client, ${transports ? `${transports[0]} only` : "the default ladder"}: every message once and in order, every ack once, recovered after every cut`, async (t) => {
      if (!serves) return t.skip("no /recovery/ path on this server");
      const result = (results[`ferrio-client ${name}`] = await run(
        `ferrio-${name}`,
        ferrio,
        {
          transports,
          WebSocket,
          retries: 1000,
          ackTimeout: 2000,
          reconnectionDelay: 20,
          reconnectionDelayMax: 100,
          timeout: 3000,
          rememberTransport: false,
        },
        { deadline: RUN_MS },
      ));
      const { seen, report } = result;
      const expected = range(COUNT);
      assert.equal(seen.timedOut, undefined);
      // Up: every ack resolved once, in order, with its number; the server ran each once, in order.
      assert.deepEqual(seen.upErrors, []);
      assert.deepEqual(seen.upAcks, expected.map((n) => [n, n]));
      assert.deepEqual(report.up, expected, "the server handled each numbered message once, in order");
      // Through the room: each relayed once, in order.
      assert.deepEqual(seen.relayed, expected);
      // Down: handled once each, in order; the server got each ack once.
      assert.deepEqual(seen.down, expected);
      assert.deepEqual(report.downErrors, []);
      assert.deepEqual(report.downAcks, expected.map((n) => [n]));
      assert.equal(report.downDone, true);
      // The cuts happened, and every reconnection recovered the socket.
      assert.equal(seen.cuts.cuts, CUTS, `cuts done: ${JSON.stringify(seen.cuts)}`);
      assert.equal(seen.connects[0], false);
      assert.deepEqual(seen.connects.slice(1).filter((r) => !r), [], `reconnections: ${JSON.stringify(seen.connects)}`);
    });
  }
});

// The official client's runs side by side: each is bounded by OFFICIAL_MS, whatever it gets.
describe("chaos: the official socket.io-client, for comparison", { concurrency: true }, () => {
  for (const [name, transports] of [
    ["websocket", ["websocket"]],
    ["polling", ["polling"]],
    ["default", undefined],
  ]) {
    it(`official socket.io-client, ${name}: prints what it gets`, async (t) => {
      if (!serves) return t.skip("no /recovery/ path on this server");
      results[`socket.io-client ${name}`] = await run(
        `official-${name}`,
        official,
        { transports, retries: 1000, ackTimeout: 2000, reconnectionDelay: 20, reconnectionDelayMax: 100, timeout: 3000 },
        // Its retry queue may be stuck: ask for the report twice at most (the server waits up to
        // 2 s for its down stream to end).
        { deadline: OFFICIAL_MS, reportTries: [2, 4000] },
      );
    });
  }
});
