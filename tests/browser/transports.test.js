// The Socket.IO contract in headless Chromium over each transport, and where the client's own
// ladder lands when the browser lacks WebSocket / EventSource / ReadableStream.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  BASE,
  NEEDS_FERRIO,
  assertAllSteps,
  assertLanded,
  explain,
  freshPage,
  launchBrowser,
  pageUrl,
  report,
  runPage,
  screenshot,
} from "./lib.js";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Opens the contract page in a fresh context, returns its result, closes the context. */
async function scenario(query, { shot } = {}) {
  const { context, page, logs } = await freshPage(browser);
  try {
    const result = await runPage(page, logs, pageUrl(BASE, query));
    if (shot) await screenshot(page, shot);
    return { result, logs };
  } finally {
    await context.close();
  }
}

describe("contract over each forced transport", () => {
  for (const transport of ["websocket", "streaming", "polling"]) {
    test(`transports: ["${transport}"]`, { timeout: 45_000, skip: transport === "streaming" && NEEDS_FERRIO }, async () => {
      const { result, logs } = await scenario({ transports: [transport] }, { shot: `contract-${transport}.png` });
      report(`forced-${transport}`, result);
      assertLanded(result, logs, transport);
      assert.equal(result.finalTransport, transport, `left the forced transport:\n${explain(result, logs)}`);
      assertAllSteps(result, logs);
    });
  }
});

describe("the ladder in a plain browser and in browsers missing features", () => {
  test("normal browser lands on websocket", { timeout: 45_000, skip: NEEDS_FERRIO }, async () => {
    const { result, logs } = await scenario({});
    report("normal", result);
    assertLanded(result, logs, "websocket");
    assertAllSteps(result, logs);
  });

  test("WebSocket removed → streaming", { timeout: 45_000, skip: NEEDS_FERRIO }, async () => {
    const { result, logs } = await scenario({ no: ["WebSocket"] });
    report("no-WebSocket", result);
    assert.deepEqual(result.removed, [{ name: "WebSocket", gone: true }]);
    assertLanded(result, logs, "streaming");
    assert.equal(result.finalTransport, "streaming", `changed transport without WebSocket:\n${explain(result, logs)}`);
    assertAllSteps(result, logs);
  });

  test("WebSocket, EventSource, ReadableStream removed → polling", { timeout: 45_000 }, async () => {
    const { result, logs } = await scenario({ no: ["WebSocket", "EventSource", "ReadableStream"] });
    report("no-WebSocket-EventSource-ReadableStream", result);
    assert.ok(result.removed.every((r) => r.gone), JSON.stringify(result.removed));
    assertLanded(result, logs, "polling");
    assert.equal(result.finalTransport, "polling", `changed transport:\n${explain(result, logs)}`);
    assertAllSteps(result, logs);
  });
});
