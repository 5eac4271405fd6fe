// The websocket killed mid-session: the page reaches the conformance server through a TCP proxy
// written here, and the test destroys every proxied connection at once (both sides, no close
// frame: the browser sees code 1006) while numbers stream into the page's room. The client must
// carry on over the next rung (streaming), the server must recover the socket (connection state
// recovery on `/recovery/`: same id, same rooms), and the page must get every number exactly
// once and in order — the ones sent while it was away are replayed.
//
// The page is pages/kill.html; the numbers come from a second client in Node (ferrio's client
// from client-js/src, straight to the server), one room-broadcast every ~10 ms.

import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";

import { BASE, CLIENT, NEEDS_FERRIO, ROOT, freePort, freshPage, launchBrowser, report } from "./lib.js";

const N = 300; // numbers sent to the room, one every ~10 ms
const KILL_AFTER = 30; // numbers the page has received over websocket before the kill
const WAIT_MS = 10_000;
const OUTAGE_MS = 300; // second scenario: new connections held this long after the kill
const PROBE_DELAY_MS = 30; // third scenario: the websocket probe's answers reach the page late

// ---- a TCP proxy whose connections the test can kill --------------------------------------

/**
 * Listens on a free 127.0.0.1 port and pipes each connection to `upstream` (an origin URL).
 * `killAll(holdMs)` destroys every live pair on both sides at once (no FIN handshake, no
 * WebSocket close frame) and returns how many it killed; connections accepted in the next
 * `holdMs` (default 0) reach the server only when that outage ends. While `probeDelayMs` is
 * set, what the server sends on a websocket upgrade probe (`GET …transport=websocket&sid=…`)
 * reaches the browser that much later.
 */
async function startTcpProxy(upstream) {
  const up = new URL(upstream);
  const pairs = new Set();
  const stats = { accepted: 0, killed: 0, held: 0, delayedProbes: 0 };
  let holdUntil = 0;
  const proxy = {
    probeDelayMs: 0,
    stats,
    live: () => pairs.size,
  };

  const pipe = (client) => {
    if (client.destroyed) return;
    const target = net.connect({ host: up.hostname, port: Number(up.port) });
    const pair = { client, target };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on("error", end);
    target.on("error", end);
    client.on("close", end);
    target.on("close", end);
    const delay = proxy.probeDelayMs;
    client.once("data", (first) => {
      if (delay > 0 && /^GET [^ ]*[?&]transport=websocket&sid=/.test(first.toString("latin1", 0, 300))) {
        stats.delayedProbes += 1;
        target.on("data", (d) => setTimeout(() => client.destroyed || client.write(d), delay));
      } else target.pipe(client);
    });
    client.pipe(target);
    client.resume();
  };

  const server = net.createServer((client) => {
    stats.accepted += 1;
    const hold = holdUntil - Date.now();
    if (hold > 0) {
      stats.held += 1;
      client.pause();
      client.on("error", () => client.destroy());
      const timer = setTimeout(() => pipe(client), hold);
      client.once("close", () => clearTimeout(timer));
    } else pipe(client);
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });

  proxy.origin = `http://127.0.0.1:${port}`;
  proxy.killAll = (holdMs = 0) => {
    holdUntil = Date.now() + holdMs;
    const victims = [...pairs];
    pairs.clear();
    for (const { client, target } of victims) {
      client.destroy();
      target.destroy();
    }
    stats.killed += victims.length;
    return victims.length;
  };
  proxy.close = async () => {
    proxy.killAll();
    await new Promise((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

// ---- the sender: a Node client straight to the server (not through the proxy) -------------

/** ferrio's client from client-js/src, over websocket with `ws` when installed, else polling. */
async function connectSender() {
  const { io } = await import(pathToFileURL(path.join(ROOT, "client-js/src/index.js")).href);
  let WebSocket = null;
  for (const pkg of ["client-js", "tests/js"]) {
    if (!fs.existsSync(path.join(ROOT, pkg, "node_modules/ws"))) continue;
    WebSocket = createRequire(path.join(ROOT, pkg, "package.json"))("ws");
    break;
  }
  const socket = io(BASE, {
    path: "/recovery/",
    forceNew: true,
    ...(WebSocket ? { WebSocket, transports: ["websocket"] } : { transports: ["polling"] }),
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`the sender did not connect within ${WAIT_MS} ms`));
    }, WAIT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return socket;
}

/** Emits room-broadcast(room, n) for n = 1..N, each after the previous one's ack, ~10 ms apart. */
async function sendNumbers(sender, room, sent) {
  for (let n = 1; n <= N; n++) {
    await sender.timeout(5000).emitWithAck("room-broadcast", room, n);
    sent.push({ n, at: Date.now() });
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- failure reports ----------------------------------------------------------------------

/** "1-57,59-300": the received numbers as runs. */
function runs(numbers) {
  const out = [];
  for (const n of numbers) {
    const last = out.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
}

/** The page's wire trace from `since` on, a run of room-messages on one transport as one line. */
function traceSince(trace, since, t0) {
  const lines = [];
  let run = null;
  for (const [at, what, id, ...rest] of trace || []) {
    if (at < since) continue;
    const m = /^42\["room-message","[^"]*",(\d+)/.exec(typeof rest[0] === "string" ? rest[0] : "");
    if (m && (what === "es-msg" || what === "ws-msg")) {
      if (run && run.what === what && run.id === id) {
        run.last = m[1];
        run.count += 1;
        continue;
      }
      run = { what, id, first: m[1], last: m[1], count: 1 };
      lines.push(run);
      run.at = at;
      continue;
    }
    run = null;
    lines.push(`+${at - t0} ${what} ${id} ${rest.map((r) => JSON.stringify(r)).join(" ")}`);
  }
  const text = lines.map((l) => (typeof l === "string" ? l : `+${l.at - t0} ${l.what} ${l.id} room-message ${l.first}..${l.last} (${l.count})`));
  return text.length > 80 ? [...text.slice(0, 40), `… ${text.length - 80} more …`, ...text.slice(-40)] : text;
}

function describeState(s, logs, proxy, killedAt) {
  if (!s) return `no page state\n${logs.slice(-20).join("\n")}`;
  const t0 = killedAt ?? s.connects[0]?.at ?? 0;
  const rel = (list) => JSON.stringify(list.map((e) => ({ ...e, at: `+${e.at - t0}` })));
  return [
    `times are ms after ${killedAt ? "the kill" : "the first connect"}`,
    `numbers (${s.numbers.length}): ${runs(s.numbers)}`,
    `transport events: ${rel(s.transports)}`,
    `connects: ${rel(s.connects)}`,
    `disconnects: ${rel(s.disconnects)}`,
    `connect errors: ${rel(s.connectErrors)}`,
    `manager events: ${rel(s.managerEvents)}`,
    `joined: ${JSON.stringify(s.joined)}, others: ${JSON.stringify(s.others.slice(0, 5))}, error: ${s.error}`,
    `proxy: ${JSON.stringify(proxy.stats)}, live ${proxy.live()}`,
    `wire trace (page side):`,
    ...traceSince(s.trace, killedAt ? killedAt - 50 : 0, t0).map((l) => `  ${l}`),
    ...logs.slice(-10),
  ].join("\n");
}

// ---- the scenario -------------------------------------------------------------------------

let browser;
let proxy;
before(async () => {
  [browser, proxy] = await Promise.all([launchBrowser(), startTcpProxy(BASE)]);
});
after(async () => {
  await browser?.close();
  await proxy?.close();
});

/**
 * The page joins a room over websocket through the proxy, the sender streams 1..N into the
 * room, and after KILL_AFTER numbers the proxy kills every connection (and, with `outageMs`,
 * holds new ones that long). Asserts the reconnection on streaming, the recovery and the
 * numbers (and, with `exactlyOnce`, that the session is lost only once); prints
 * `fallback <scenario> <transport after reconnect> <ms from kill to reconnect> …`.
 */
async function killMidSession({ scenario, outageMs = 0, exactlyOnce = false }) {
  const room = `kill-${process.pid}-${Date.now()}`;
  const { context, page, logs } = await freshPage(browser);
  let sender;
  let sending;
  let killedAt;
  const sent = [];
  const state = () => page.evaluate(() => window.__kill).catch(() => null);
  const until = async (what, fn, arg, timeout = WAIT_MS) => {
    try {
      await page.waitForFunction(fn, arg, { timeout, polling: 20 });
    } catch (err) {
      throw new Error(`${what}: not within ${timeout} ms (${err.message.split("\n")[0]})\n${describeState(await state(), logs, proxy, killedAt)}`);
    }
  };
  try {
    const q = new URLSearchParams({ client: CLIENT, path: "/recovery/", room });
    await page.goto(`${proxy.origin}/pages/kill.html?${q}`, { waitUntil: "domcontentloaded", timeout: WAIT_MS });
    await until("connected over websocket through the proxy and joined the room", (r) => {
      const s = window.__kill;
      return s && s.joined === r && window.__socket?.transport === "websocket";
    }, room);

    sender = await connectSender();
    sending = sendNumbers(sender, room, sent);
    sending.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile

    await until(`${KILL_AFTER} numbers received over websocket`, (k) => window.__kill.numbers.length >= k, KILL_AFTER);
    const before = await state();
    assert.equal(before.connects.at(-1)?.transport, "websocket", `not on websocket before the kill:\n${describeState(before, logs, proxy)}`);
    assert.ok(before.numbers.length < N, "the kill must happen mid-stream");

    killedAt = Date.now();
    const killed = proxy.killAll(outageMs);
    assert.ok(killed >= 1, "no proxied connection to kill");

    await until("reconnected after the kill", () => window.__kill.connects.length >= 2);
    await sending;
    await until(`number ${N} received`, (n) => window.__kill.numbers.includes(n), N);
    // Nothing more may come (no late duplicate): a bounded window of absence.
    await page.waitForTimeout(300);
    const s = await state();
    const why = describeState(s, logs, proxy, killedAt);

    const [first, second] = s.connects;
    const reconnectMs = second.at - killedAt;
    const afterKill = s.transports.filter((t) => t.at >= killedAt).map((t) => t.name);
    const finalTransport = await page.evaluate(() => window.__socket.transport);
    // Numbers the server broadcast while the page was away (acked to the sender between the
    // kill and the page's reconnection): the page can only have them by replay.
    const whileAway = sent.filter((x) => x.at > killedAt && x.at < second.at).length;
    report(scenario, { transport: second.transport, connectMs: reconnectMs, finalTransport }, {
      disconnectMs: s.disconnects[0] ? s.disconnects[0].at - killedAt : null,
      reason: JSON.stringify(s.disconnects[0]?.reason ?? null),
      recovered: second.recovered,
      outageMs,
      probeDelayMs: proxy.probeDelayMs,
      killedConnections: killed,
      beforeKill: s.arrivals.filter((a) => a.at < killedAt).length,
      sentWhileAway: whileAway,
      disconnects: s.disconnects.length,
      transports: afterKill.join(">"),
    });

    assert.equal(s.error, null, why);
    assert.ok(["transport close", "transport error"].includes(s.disconnects[0]?.reason), `disconnect reason:\n${why}`);
    assert.equal(second.transport, "streaming", `reconnected on ${second.transport}, expected the rung under websocket:\n${why}`);
    assert.equal(afterKill[0], "streaming", `first transport event after the kill:\n${why}`);
    assert.ok(afterKill.every((t) => t === "streaming" || t === "websocket"), `transport events after the kill:\n${why}`);
    assert.equal(second.recovered, true, `socket.recovered is false after the reconnection:\n${why}`);
    assert.equal(second.id, first.id, `the recovered socket has a new id:\n${why}`);
    assert.deepEqual(s.others, [], why);
    assert.equal(runs(s.numbers), `1-${N}`, `every number once and in order:\n${why}`);
    assert.deepEqual(s.numbers, Array.from({ length: N }, (_, i) => i + 1));
    // Every reconnection got the same socket back.
    assert.equal(s.connects.length, s.disconnects.length + 1, `a disconnect without its reconnection:\n${why}`);
    for (const c of s.connects.slice(1)) assert.ok(c.recovered && c.id === first.id, `a reconnection was not recovered:\n${why}`);
    // The client carries on: one loss, one reconnection, then no more disconnects (the upgrade
    // back to websocket included). Only the last test insists (see there): the known
    // stalled-upgrade bug makes the others lose the recovered session again now and then.
    if (s.disconnects.length > 1) {
      console.log(`${scenario}: ${s.disconnects.length} disconnects instead of 1 (the stalled-upgrade bug of the TODO test)`);
    }
    if (exactlyOnce) {
      assert.equal(
        s.disconnects.length,
        1,
        `${s.disconnects.length} disconnects instead of 1: the session recovered on streaming was lost again:\n${why}`,
      );
    }
    return { whileAway, reconnectMs, why };
  } finally {
    sender?.close();
    await sending?.catch(() => {});
    await context.close();
  }
}

test("websocket killed mid-session → streaming, socket recovered, every event once and in order", { timeout: 60_000, skip: NEEDS_FERRIO }, async () => {
  await killMidSession({ scenario: "kill-websocket", exactlyOnce: true });
});

// The same with the network down for a moment after the kill (the proxy holds new connections
// for OUTAGE_MS), so the room gets numbers while the page is away for certain: the replay of
// what it missed is exercised, not only the reconnection.
test(`websocket killed, ${OUTAGE_MS} ms outage → streaming, the missed events replayed in order`, { timeout: 60_000, skip: NEEDS_FERRIO }, async () => {
  const { whileAway, reconnectMs, why } = await killMidSession({ scenario: "kill-websocket-outage", outageMs: OUTAGE_MS, exactlyOnce: true });
  assert.ok(reconnectMs >= OUTAGE_MS, `reconnected after ${reconnectMs} ms, within the outage?\n${why}`);
  assert.ok(whileAway >= 5, `only ${whileAway} numbers were sent while the page was away:\n${why}`);
});

// The same kill, with the answers on the websocket upgrade probe (`3probe`) reaching the page
// PROBE_DELAY_MS late, so the upgrade noop on the stream always arrives first (the server sends
// both at once; without the delay they race and the stream's noop wins now and then).
// The client must take a stream's upgrade noop that beats `3probe` as the upgrade signal (not
// re-attach a stream), and the server must end a stream once the probe is answered even while
// events flow; otherwise the upgrade stalls, the pong waits behind it and the heartbeat closes
// the session (seen as repeated disconnects).
test(`websocket killed, probe answered ${PROBE_DELAY_MS} ms late → the upgrade back to websocket does not lose the session`, {
  timeout: 60_000,
  skip: NEEDS_FERRIO,
}, async () => {
  proxy.probeDelayMs = PROBE_DELAY_MS;
  try {
    await killMidSession({ scenario: "kill-websocket-late-probe", exactlyOnce: true });
  } finally {
    proxy.probeDelayMs = 0;
  }
});
