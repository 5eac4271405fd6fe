// The classic-script client in Chromium, where it claims to run (issue 13):
// - a page that deletes WebSocket, EventSource, fetch, ReadableStream, Promise, Map, Set,
//   Symbol, TextEncoder, Blob, localStorage and the typed arrays before loading
//   /socket.io/ferrio.min.js connects over polling, joins a room, acks with callbacks, gets
//   binary as an array of bytes, survives a server-side close and reconnects;
// - with only WebSocket deleted it lands on streaming;
// - a page on another origin loads both builds (script and module) from the server, with CORS;
// - behind a proxy that answers the websocket upgrade with 101 and then forwards nothing, the
//   client is on streaming within 2 s of page load.
// Prints the time from page load to the first event of each page, and the silent-proxy
// fallback time (also appended to tests/output/browser/fallback.jsonl).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  BASE,
  NEEDS_FERRIO,
  allSteps,
  assertAllSteps,
  assertLanded,
  explain,
  freePort,
  freshPage,
  launchBrowser,
  pageUrl,
  report,
  runPage,
} from "./lib.js";

const PAGES = path.join(path.dirname(fileURLToPath(import.meta.url)), "pages");
const SILENT_FALLBACK_BOUND_MS = 2000;

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Loads `url` and returns the JSON the page leaves in #result once it sets data-done. */
async function pageResult(url, timeout = 30_000) {
  const { context, page, logs } = await freshPage(browser);
  try {
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: 10_000 });
    // The locator runs in playwright's own world, untouched by what the page deleted.
    const done = page.locator("#result[data-done]");
    try {
      await done.waitFor({ timeout });
    } catch (err) {
      throw new Error(`${url} did not finish: ${err.message.split("\n")[0]}\n${logs.slice(-20).join("\n")}`);
    }
    return { result: JSON.parse(await done.textContent()), logs };
  } finally {
    await context.close();
  }
}

/** One line per page: the time from page load to its first event from the server. */
function firstEvent(scenario, result) {
  console.log(`first-event ${scenario} ${result.transports[0]} ${result.firstEventMs} ms (connect ${result.connectMs} ms)`);
  report(scenario, { transport: result.transports[0], connectMs: result.firstEventMs, negotiation: result.negotiation }, {
    measure: "page load to first event",
    connectMs: result.connectMs,
  });
}

describe("the classic client (ferrio.min.js)", { skip: NEEDS_FERRIO }, () => {
  test("without the modern globals: polling, rooms, ack callbacks, bytes, reconnection", { timeout: 45_000 }, async () => {
    const { result, logs } = await pageResult(`${BASE}/pages/legacy.html`);
    const why = `${JSON.stringify(result, null, 1)}\n${logs.slice(-20).join("\n")}`;
    assert.equal(result.error, null, why);
    assert.ok(result.removed.length >= 11 && result.removed.every(([, gone]) => gone), why);
    assert.equal(result.sameGlobal, true, "the global ferrio is io");
    assert.equal(result.emitWithAck, "undefined", "emitWithAck exists only where Promise does");
    assert.deepEqual(
      result.steps.map((s) => s.name),
      ["join with an ack callback", "room message", "binary", "ack with data", "ack after the reconnection"],
    );
    assert.equal(result.binaryKind, "[object Array]", "binary arrives as an array of bytes without typed arrays");
    assert.deepEqual(result.transports, ["polling", "polling"], why);
    assert.equal(result.disconnect.reason, "transport close", why);
    assert.ok(result.negotiation.every((n) => n.transport == "polling"), why);
    firstEvent("legacy-polling", result);
  });

  test("without WebSocket only: lands on streaming", { timeout: 45_000 }, async () => {
    const { result, logs } = await pageResult(`${BASE}/pages/legacy.html?no=WebSocket`);
    const why = `${JSON.stringify(result, null, 1)}\n${logs.slice(-20).join("\n")}`;
    assert.equal(result.error, null, why);
    assert.equal(result.transports[0], "streaming", why);
    assert.equal(result.binaryKind, "[object ArrayBuffer]");
    assert.equal(result.emitWithAck, "function");
    firstEvent("no-websocket-streaming", result);
  });
});

/** A static server for tests/browser/pages on another port: another origin. */
async function otherOrigin() {
  const server = http.createServer((req, res) => {
    const name = new URL(req.url, "http://x").pathname.split("/").pop();
    if (name !== "cross-origin.html") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(fs.readFileSync(path.join(PAGES, name)));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))),
  };
}

describe("from another origin", { skip: NEEDS_FERRIO }, () => {
  test("a page on another port loads both builds from the server and connects with each", { timeout: 45_000 }, async () => {
    const other = await otherOrigin();
    try {
      const { result, logs } = await pageResult(`${other.origin}/pages/cross-origin.html?server=${encodeURIComponent(BASE)}`);
      const why = `${JSON.stringify(result, null, 1)}\n${logs.slice(-20).join("\n")}`;
      assert.notEqual(result.origin, new URL(BASE).origin);
      assert.equal(result.error, null, why);
      assert.deepEqual(result.steps.map((s) => [s.name, s.answer]), [["classic", "classic"], ["module", "module"]], why);
    } finally {
      await other.close();
    }
  });
});

/**
 * A TCP proxy to the conformance server that answers every WebSocket handshake with a valid
 * 101 and then forwards nothing, either way (a proxy that "supports" WebSocket and drops it);
 * any other request is piped through.
 */
async function silentWebSocketProxy(upstream) {
  const { port: upstreamPort } = new URL(upstream);
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      if (head.indexOf("\r\n\r\n") < 0) return;
      client.off("data", onData);
      const text = head.toString("latin1");
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(text);
      if (/^upgrade:\s*websocket/im.test(text) && key) {
        const accept = createHash("sha1").update(`${key[1]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        client.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        server.upgrades = (server.upgrades || 0) + 1;
        client.on("data", () => {}); // swallowed
        return;
      }
      const up = net.connect(Number(upstreamPort), "127.0.0.1", () => {
        up.write(head);
        client.pipe(up);
        up.pipe(client);
      });
      sockets.add(up);
      up.on("close", () => (sockets.delete(up), client.destroy()));
      up.on("error", () => client.destroy());
      client.on("close", () => up.destroy());
    };
    client.on("data", onData);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    upgrades: () => server.upgrades || 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("a proxy that answers the websocket upgrade and forwards nothing", { skip: NEEDS_FERRIO }, () => {
  test(`streaming within ${SILENT_FALLBACK_BOUND_MS} ms of page load; the websocket attempt is given up as silent`, { timeout: 45_000 }, async () => {
    const proxy = await silentWebSocketProxy(BASE);
    const { context, page, logs } = await freshPage(browser);
    try {
      // "drop": connect, echo, the server drops the session, reconnect (the whole contract
      // pushes a 300 KB echo through the stream, whose end would then wait for the upgrade
      // probe that the proxy keeps silent too: that is the probe's deadline, not this one).
      const result = await runPage(page, logs, pageUrl(proxy.origin, { run: "drop" }));
      report("silent-websocket-proxy", result);
      assertLanded(result, logs, "streaming");
      assert.ok(proxy.upgrades() >= 1, "the websocket reached the proxy");
      const ws = allSteps(result).find((s) => s.transport == "websocket" && !s.upgrade);
      assert.equal(ws?.reason, "silent", `websocket not given up as silent:\n${explain(result, logs)}`);
      assert.ok(result.connectMs < SILENT_FALLBACK_BOUND_MS, `connected after ${result.connectMs} ms (bound ${SILENT_FALLBACK_BOUND_MS}):\n${explain(result, logs)}`);
      assertAllSteps(result, logs);
    } finally {
      await context.close();
      await proxy.close();
    }
  });
});
