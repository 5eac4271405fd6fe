// The demo app (server/examples/chat) in headless Chromium: two visitors with their own
// nicknames meet in a room, see each other in the member list, see each other typing, exchange
// messages, and the sender's message turns "delivered" when the server's ack arrives. Then the
// page's own links force each transport (and hide browser features), and a message round-trips
// over each. A screenshot of the chat and its connection panel goes to
// tests/output/browser/demo.png.
//
// The test builds the demo (`cargo build -p ferrio --example chat`, debug), starts it on a free
// 127.0.0.1 port and stops it by PID. FERRIO_CHAT_BIN=<binary> skips the build.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { ROOT, freePort, freshPage, launchBrowser, report, screenshot, startChild } from "./lib.js";

const BUILD_MS = 240_000;
const START_MS = 15_000;
const WAIT_MS = 10_000;
const VIEWPORT = { width: 1280, height: 760 };

// ---- the demo server --------------------------------------------------------------------

/** Runs `cmd args` in the repository, bounded by `ms`; rejects with its output on failure. */
function run(cmd, args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? signal}, bound ${ms} ms):\n${output}`));
    });
  });
}

/** Builds (unless FERRIO_CHAT_BIN) and starts the chat demo; `stop()` ends it by PID. */
async function startDemo() {
  let bin = process.env.FERRIO_CHAT_BIN;
  if (!bin) {
    await run("cargo", ["build", "-q", "-p", "ferrio", "--example", "chat"], BUILD_MS);
    bin = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), "debug/examples/chat");
  }
  const port = await freePort();
  const proc = startChild(bin, [], { cwd: ROOT, env: { ...process.env, PORT: String(port) } });
  const stop = proc.stop;

  // Ready when it prints `ferrio chat demo: open http://127.0.0.1:PORT`.
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no URL within ${START_MS} ms:\n${proc.output}`)), START_MS);
    // Runs after startChild's own listener has appended the chunk to `proc.output`.
    proc.child.stdout.on("data", () => {
      const m = /ferrio chat demo: open (http:\/\/127\.0\.0\.1:(\d+))/.exec(proc.output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${JSON.stringify(e)}) before listening:\n${proc.output}`));
    });
  }).catch(async (err) => {
    await stop();
    throw err;
  });
  assert.equal(url, `http://127.0.0.1:${port}`, "the demo listens on the port it was given");
  return { url, stop, pid: proc.child.pid, output: () => proc.output };
}

// ---- the page -----------------------------------------------------------------------------

/** What the page shows: panel, room, members, messages, typing line. */
function pageState(page) {
  return page
    .evaluate(() => {
      const $ = (id) => document.getElementById(id);
      const texts = (sel) => [...document.querySelectorAll(sel)].map((n) => n.textContent);
      return {
        status: $("status")?.textContent,
        transport: $("transport")?.dataset.transport,
        transportText: $("transport")?.textContent,
        rtt: $("rtt")?.textContent,
        reconnects: $("reconnects")?.textContent,
        ladder: texts("#ladder li"),
        changes: texts("#changes li"),
        room: $("room-title")?.textContent,
        members: texts("#members li"),
        messages: texts("#messages li"),
        typing: $("typing")?.textContent,
        negotiation: window.chat?.socket?.io?.negotiation ?? null,
      };
    })
    .catch((err) => ({ unavailable: err.message }));
}

/** Waits (bounded) until `fn(arg)` is truthy in the page; fails with what the page shows. */
async function until(chat, what, fn, arg, timeout = WAIT_MS) {
  try {
    return await chat.page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (err) {
    const state = await pageState(chat.page);
    throw new Error(
      `${chat.nick}: ${what} — not within ${timeout} ms (${err.message.split("\n")[0]})\n` +
        `page: ${JSON.stringify(state, null, 1)}\n${chat.logs.slice(-20).join("\n")}`,
    );
  }
}

const hasSystemLine = (text) => [...document.querySelectorAll("#messages li.system")].some((li) => li.textContent === text);

/**
 * Opens the demo as `nick` (stored in localStorage before the page loads) in a fresh context,
 * with `query` (e.g. "?transport=polling"), and waits until it is connected and in #lobby.
 */
async function openChat(nick, query = "", contextOptions = {}) {
  const { context, page, logs } = await freshPage(browser, contextOptions);
  const chat = { context, page, logs, nick };
  try {
    await context.addInitScript((n) => localStorage.setItem("ferrio-demo:nick", n), nick);
    const start = Date.now();
    await page.goto(`${demo.url}/${query}`, { waitUntil: "domcontentloaded", timeout: WAIT_MS });
    await until(chat, "connected", () => document.getElementById("status").textContent === "connected" && window.chat?.socket?.connected);
    chat.connectMs = Date.now() - start;
    await until(chat, "joined #lobby on connect", hasSystemLine, "you joined #lobby");
    assert.equal(await page.inputValue("#nick"), nick, "the nickname comes from localStorage");
    return chat;
  } catch (err) {
    await context.close();
    throw err;
  }
}

/** Clicks the room's button and waits until the page says it joined. */
async function joinRoom(chat, room) {
  await chat.page.locator(`#rooms button[data-room="${room}"]`).click({ timeout: WAIT_MS });
  await until(chat, `joined #${room}`, (r) => document.getElementById("room-title").textContent === `#${r}` && [...document.querySelectorAll("#messages li.system")].some((li) => li.textContent === `you joined #${r}`), room);
}

/** Waits until `nick` is in the page's member list. */
function seesMember(chat, nick, timeout = WAIT_MS) {
  return until(chat, `${nick} in #members`, (n) => [...document.querySelectorAll("#members li")].some((li) => li.textContent === n), nick, timeout);
}

/** Submits `text` (already typed, or typed now with fill) and returns the ms until "delivered". */
async function send(chat, text, { typed = false } = {}) {
  if (!typed) await chat.page.fill("#text", text, { timeout: WAIT_MS });
  const start = Date.now();
  await chat.page.press("#text", "Enter", { timeout: WAIT_MS });
  await until(chat, `own message "${text}" shown as sent or delivered`, (t) => [...document.querySelectorAll("#messages li.mine")].some((li) => li.textContent.includes(t)), text);
  await until(
    chat,
    `own message "${text}" turns "delivered"`,
    (t) => {
      const li = [...document.querySelectorAll("#messages li.mine")].find((l) => l.textContent.includes(t));
      const status = li?.querySelector(".status");
      return status?.textContent === "delivered" && status.classList.contains("delivered");
    },
    text,
  );
  return Date.now() - start;
}

/** Waits until `chat` shows `text` from `from` as someone else's message. */
function receives(chat, from, text) {
  return until(
    chat,
    `message "${text}" from ${from}`,
    ([f, t]) =>
      [...document.querySelectorAll("#messages li:not(.mine):not(.system)")].some(
        (li) => li.querySelector(".from")?.textContent === f && li.textContent === f + t,
      ),
    [from, text],
  );
}

/** Waits until the panel shows `transport` (text and data-transport). */
function showsTransport(chat, transport) {
  return until(chat, `the panel shows ${transport}`, (t) => {
    const el = document.getElementById("transport");
    return el.dataset.transport === t && el.textContent === t;
  }, transport);
}

// ---- the tests ----------------------------------------------------------------------------

let browser;
let demo;
before(async () => {
  [browser, demo] = await Promise.all([launchBrowser(), startDemo()]);
}, { timeout: BUILD_MS + START_MS + 30_000 });
after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A nickname unique to this run (the demo keeps at most 24 characters). */
const nickname = (name) => `${name}-${Math.floor(Math.random() * 9000 + 1000)}`;

describe("the chat demo", () => {
  test("two visitors in #rust: members, typing, message, delivery ack; screenshot", { timeout: 60_000 }, async () => {
    const a = await openChat(nickname("alice"), "", { viewport: VIEWPORT });
    let b;
    try {
      b = await openChat(nickname("bob"));
      // A normal browser: the ladder's first rung.
      await showsTransport(a, "websocket");
      await showsTransport(b, "websocket");

      // B is in #rust when A arrives: B's member list updates live with A's nickname.
      await joinRoom(b, "rust");
      await joinRoom(a, "rust");
      await seesMember(b, a.nick);
      await seesMember(b, b.nick);

      // A types: B sees the typing indicator.
      const text = "Hello from Alice over ferrio!";
      await a.page.locator("#text").pressSequentially(text, { delay: 5, timeout: WAIT_MS });
      await until(b, `typing indicator for ${a.nick}`, (n) => document.getElementById("typing").textContent === `${n} is typing…`, a.nick);

      // A sends: B receives it, A's status goes "sent" → "delivered", B's typing line clears.
      const ackMs = await send(a, text, { typed: true });
      await receives(b, a.nick, text);
      await until(b, "typing indicator cleared", () => document.getElementById("typing").textContent === "");

      // And back.
      const reply = "Hi Alice, got it.";
      await send(b, reply);
      await receives(a, b.nick, reply);

      // The panel: connected, a round trip measured (every 2 s), no reconnection, the ladder.
      await until(a, "a round trip in the panel", () => / ms$/.test(document.getElementById("rtt").textContent), undefined, 5000);
      const state = await pageState(a.page);
      assert.equal(state.status, "connected");
      assert.equal(state.reconnects, "0");
      assert.ok(state.ladder.some((l) => l.startsWith("websocket attempt: ok")), `ladder: ${JSON.stringify(state.ladder)}`);
      report("demo-auto", { transport: state.transport, connectMs: a.connectMs }, { ackMs });

      const file = await screenshot(a.page, "demo.png", { fullPage: false });
      console.log(`demo screenshot: ${file}`);
    } finally {
      await a.context.close();
      await b?.context.close();
    }
  });

  // Whoever joins a room must see who is already there: the page switches rooms before the
  // server's answer, and the server acks the join before it announces the members.
  test("the joiner's member list shows who is already in the room", { timeout: 45_000 }, async () => {
    const first = await openChat(nickname("first"));
    let second;
    try {
      second = await openChat(nickname("second"));
      await joinRoom(first, "random");
      await joinRoom(second, "random");
      await seesMember(first, second.nick);
      await seesMember(second, second.nick);
      await seesMember(second, first.nick, 3000);
    } finally {
      await second?.context.close();
      await first.context.close();
    }
  });

  const MODES = [
    { query: "?transport=websocket", expected: "websocket" },
    { query: "?transport=streaming", expected: "streaming" },
    { query: "?transport=polling", expected: "polling" },
    { query: "?no=WebSocket", expected: "streaming", hidden: ["WebSocket"] },
    { query: "?no=WebSocket,EventSource,ReadableStream", expected: "polling", hidden: ["WebSocket", "EventSource", "ReadableStream"] },
  ];

  for (const mode of MODES) {
    test(`${mode.query} → ${mode.expected}, a message round-trips`, { timeout: 45_000 }, async () => {
      // The link is on the page itself.
      const peer = await openChat(nickname("peer"));
      let forced;
      try {
        assert.equal(await peer.page.locator(`#force a[href="${mode.query}"]`).count(), 1, `the page links ${mode.query}`);
        forced = await openChat(nickname(mode.expected.slice(0, 4)), mode.query);
        await showsTransport(forced, mode.expected);
        await joinRoom(peer, "rust");
        await joinRoom(forced, "rust");
        await seesMember(peer, forced.nick);

        const out = `over ${mode.expected} (${mode.query})`;
        const ackMs = await send(forced, out);
        await receives(peer, forced.nick, out);
        const back = `back to the ${mode.expected} page`;
        await send(peer, back);
        await receives(forced, peer.nick, back);

        const state = await pageState(forced.page);
        report(`demo-${mode.query.slice(1)}`, { transport: state.transport, connectMs: forced.connectMs }, { ackMs });
        assert.equal(state.transport, mode.expected, `the panel left ${mode.expected}: ${JSON.stringify(state)}`);
        assert.ok(
          state.ladder.some((l) => l.startsWith(`${mode.expected} attempt: ok`)),
          `the ladder shows no successful ${mode.expected} attempt: ${JSON.stringify(state.ladder)}`,
        );
        for (const name of mode.hidden || []) {
          assert.ok(state.ladder.includes(`${name} hidden from this page: its rung is skipped`), `ladder: ${JSON.stringify(state.ladder)}`);
        }
        if (mode.hidden?.includes("WebSocket")) {
          assert.ok(!state.ladder.some((l) => l.startsWith("websocket")), `websocket tried although hidden: ${JSON.stringify(state.ladder)}`);
        }
      } finally {
        await forced?.context.close();
        await peer.context.close();
      }
    });
  }
});
