// Real nginx reverse proxies in front of the conformance server force the fallback ladder:
// no Upgrade headers → websocket fails → streaming (within 3 s of page load); a proxy that
// buffers every response → streaming is detected as buffered → polling; a reload starts on the
// remembered rung. A textbook WebSocket proxy is the control.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  BASE,
  NEEDS_FERRIO,
  OFFICIAL,
  PROXIES,
  allSteps,
  assertAllSteps,
  assertLanded,
  explain,
  freshPage,
  launchBrowser,
  pageUrl,
  report,
  runPage,
  startNginx,
} from "./lib.js";

let browser;
let nginx;
before(async () => {
  [browser, nginx] = await Promise.all([launchBrowser(), startNginx(BASE, PROXIES)]);
});
after(async () => {
  await browser?.close();
  await nginx?.stop();
});

const FALLBACK_BOUND_MS = 3000;

async function load(origin, query, { reloadToo = false } = {}) {
  const { context, page, logs } = await freshPage(browser);
  try {
    const result = await runPage(page, logs, pageUrl(origin, query));
    const reloaded = reloadToo ? await runPage(page, logs, null, { reload: true }) : null;
    return { result, reloaded, logs };
  } finally {
    await context.close();
  }
}

/** Runs a test body; on failure the error also carries the tail of nginx's error log. */
function withNginxLog(body) {
  return async () => {
    try {
      await body();
    } catch (err) {
      err.message += `\n--- nginx error.log (tail) ---\n${nginx.errorLog().split("\n").slice(-25).join("\n")}`;
      throw err;
    }
  };
}

/** The first step on `transport` that failed, over all the client's connection attempts. */
function failedRung(result, transport) {
  return allSteps(result).find((s) => s.transport === transport && s.ok === false);
}

/** The first ladder step of the page's first connection attempt. */
function firstStep(result) {
  return allSteps(result)[0];
}

/** Whether the client tried `transport` at all (a skipped rung never appears). */
function triedRung(result, transport) {
  return allSteps(result).some((s) => s.transport === transport);
}

describe("behind nginx", () => {
  test("control: nginx with Upgrade headers → websocket", { timeout: 45_000 }, withNginxLog(async () => {
    const { result, logs } = await load(nginx.urls.websocket, OFFICIAL ? { transports: ["websocket"] } : {});
    report("nginx-upgrade", result);
    assertLanded(result, logs, "websocket");
    assertAllSteps(result, logs);
  }));

  test("nginx without Upgrade → websocket fails → streaming within 3 s", { timeout: 45_000, skip: NEEDS_FERRIO }, withNginxLog(async () => {
    const { result, logs } = await load(nginx.urls.noUpgrade, {});
    report("nginx-no-upgrade", result);
    assertLanded(result, logs, "streaming");
    assert.ok(result.connectMs < FALLBACK_BOUND_MS, `connected after ${result.connectMs} ms (bound ${FALLBACK_BOUND_MS}):\n${explain(result, logs)}`);
    assert.ok(failedRung(result, "websocket"), `no failed websocket step in the negotiation:\n${explain(result, logs)}`);
    assert.equal(result.finalTransport, "streaming", `left streaming although websocket cannot work:\n${explain(result, logs)}`);
    assertAllSteps(result, logs);
  }));

  test("buffering nginx without Upgrade → streaming detected as buffered → polling", { timeout: 45_000, skip: NEEDS_FERRIO }, withNginxLog(async () => {
    const { result, logs } = await load(nginx.urls.buffering, {});
    report("nginx-buffering", result);
    assertLanded(result, logs, "polling");
    // "Detected as buffered": streaming was tried and given up for polling. (Whether the client
    // records it as a failed step or as an opened-then-lost session is its own business.)
    assert.ok(triedRung(result, "streaming"), `streaming was never tried:\n${explain(result, logs)}`);
    assert.equal(result.finalTransport, "polling", `left polling:\n${explain(result, logs)}`);
    assertAllSteps(result, logs);
  }));

  test("reload after the streaming fallback starts on streaming", { timeout: 60_000, skip: NEEDS_FERRIO }, withNginxLog(async () => {
    const { result, reloaded, logs } = await load(nginx.urls.noUpgrade, { keep: true }, { reloadToo: true });
    report("nginx-no-upgrade-first-load", result);
    report("nginx-no-upgrade-reload", reloaded);
    assertLanded(result, logs, "streaming");
    assertLanded(reloaded, logs, "streaming");
    assert.equal(firstStep(reloaded)?.transport, "streaming", `the reload did not start on the remembered rung:\n${explain(reloaded, logs)}`);
    assertAllSteps(reloaded, logs);
  }));

  test("reload after the polling fallback starts on polling", { timeout: 60_000, skip: NEEDS_FERRIO }, withNginxLog(async () => {
    const { result, reloaded, logs } = await load(nginx.urls.buffering, { keep: true }, { reloadToo: true });
    report("nginx-buffering-first-load", result);
    report("nginx-buffering-reload", reloaded);
    assertLanded(result, logs, "polling");
    assertLanded(reloaded, logs, "polling");
    assert.equal(firstStep(reloaded)?.transport, "polling", `the reload did not start on the remembered rung:\n${explain(reloaded, logs)}`);
    assertAllSteps(reloaded, logs);
  }));
});
