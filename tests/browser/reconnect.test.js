// The server closes the whole Engine.IO session mid-session (the contract's `drop` event): the
// client must reconnect by itself, and what the page emitted while disconnected (an event and an
// ack request) must be delivered after the reconnection.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { BASE, NEEDS_FERRIO, OFFICIAL, assertAllSteps, assertLanded, explain, freshPage, launchBrowser, pageUrl, report, runPage } from "./lib.js";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const CASES = [
  // The normal browser: the ladder lands on websocket, which the server then kills.
  { name: "drop-websocket", query: OFFICIAL ? { transports: ["websocket"] } : {}, lands: "websocket", skip: false },
  { name: "drop-streaming", query: { no: ["WebSocket"] }, lands: "streaming", skip: NEEDS_FERRIO },
  { name: "drop-polling", query: { transports: ["polling"] }, lands: "polling", skip: false },
];

for (const c of CASES) {
  test(`${c.lands} killed mid-session → reconnects, queued messages delivered`, { timeout: 45_000, skip: c.skip }, async () => {
    const { context, page, logs } = await freshPage(browser);
    try {
      const result = await runPage(page, logs, pageUrl(BASE, { ...c.query, run: "drop" }));
      const d = result.drop || {};
      report(c.name, result, {
        reason: JSON.stringify(d.reason),
        reconnectedOn: d.after?.transport,
        reconnectMs: d.reconnectMs == null ? null : Math.round(d.reconnectMs - d.disconnectMs),
      });
      assertLanded(result, logs, c.lands);
      assertAllSteps(result, logs);
      assert.ok(d.after?.transport, `no transport after reconnecting:\n${explain(result, logs)}`);
      assert.notEqual(d.after.id, d.before.id, "a new session gives the socket a new id");
    } finally {
      await context.close();
    }
  });
}
