// The classic-script build (dist/ferrio.min.js): committed, so the Rust crate embeds it without
// Node; this checks it is what the build script makes of today's sources, that it is ES5 as a
// real parser reads it, and that it runs where Promise, Map, Set, Symbol, fetch, WebSocket,
// EventSource, TextEncoder, Blob, localStorage and even typed arrays are missing: polling over
// XMLHttpRequest, ack callbacks, binary received as an array of bytes.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import vm from "node:vm";
import { parse } from "acorn";
import { NAME, classic } from "../scripts/classic.js";

const dist = (file) => readFileSync(new URL(`../dist/${file}`, import.meta.url), "utf8");

describe("the classic build", () => {
  it("is up to date with the sources (npm run build rewrites it)", async () => {
    const { code, map } = await classic();
    assert.ok(code == dist(NAME), `dist/${NAME} is stale: run \`npm run build\` in client-js`);
    assert.ok(map == dist(`${NAME}.map`), `dist/${NAME}.map is stale: run \`npm run build\` in client-js`);
  });

  it("is ES5: acorn parses it with ecmaVersion 5", () => {
    assert.doesNotThrow(() => parse(dist(NAME), { ecmaVersion: 5, sourceType: "script" }));
    // The check itself can fail: ES2015 syntax is refused.
    assert.throws(() => parse("const a = () => 1;", { ecmaVersion: 5 }));
  });

  it("points at its source map, whose sources are the client's modules", () => {
    assert.match(dist(NAME), /\n\/\/# sourceMappingURL=ferrio\.min\.js\.map\n$/);
    const map = JSON.parse(dist(`${NAME}.map`));
    assert.ok(map.sources.includes("../src/socket.js"), JSON.stringify(map.sources));
    assert.equal(map.sources.length, map.sourcesContent.length);
  });
});

/**
 * A page's window of a browser without the modern globals: a fresh V8 context (which has no
 * fetch, WebSocket, EventSource, TextEncoder, Blob or localStorage to begin with) from which
 * Promise, Map, Set, Symbol and the typed arrays are deleted; it has timers, URL and an
 * XMLHttpRequest made on node:http.
 */
function oldBrowser() {
  const window = vm.createContext({ setTimeout, clearTimeout, URL, URLSearchParams, atob, btoa, XMLHttpRequest: FakeXhr });
  vm.runInContext(
    `self = this;
     ["Promise", "Map", "Set", "WeakMap", "WeakSet", "Symbol", "ArrayBuffer", "SharedArrayBuffer", "DataView",
      "Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
      "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"].forEach(function (name) { delete self[name]; });`,
    window,
  );
  vm.runInContext(dist(NAME), window, { filename: NAME });
  return window;
}

/** XMLHttpRequest over node:http: what the polling transport uses where fetch is missing. */
class FakeXhr {
  open(method, url) {
    Object.assign(this, { method, url, readyState: 1, status: 0, responseText: "" });
  }
  setRequestHeader() {}
  send(body) {
    this._req = http.request(this.url, { method: this.method }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => this._done(res.statusCode, text, res.headers));
    });
    this._req.on("error", () => this._done(0, ""));
    this._req.end(body ?? undefined);
  }
  abort() {
    this._req?.destroy();
  }
  _done(status, text, headers = {}) {
    if (this.readyState == 4) return;
    Object.assign(this, { readyState: 4, status, responseText: text, _headers: headers });
    this.onreadystatechange?.();
  }
  getResponseHeader(name) {
    return this._headers?.[name.toLowerCase()] ?? null;
  }
}

/** An Engine.IO polling server for one session; `reply(text)` answers the pending GET. */
function fakeServer() {
  const server = { posts: [], gets: [], waiting: [] };
  server.http = http.createServer((req, res) => {
    const sid = new URL(req.url, "http://x").searchParams.get("sid");
    if (req.method == "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        res.end("ok");
        server.posts.push(...body.split("\x1e"));
        server.waiting.splice(0).forEach((w) => w());
      });
      return;
    }
    if (!sid) {
      return res.end("0" + JSON.stringify({ sid: "old", upgrades: [], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1e6 }));
    }
    server.gets.push(res);
    server.waiting.splice(0).forEach((w) => w());
  });
  /** Resolves once `cond()` holds, checked after each request. */
  server.until = (cond) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; posts ${JSON.stringify(server.posts)}`)), 5000);
      const check = () => (cond() ? (clearTimeout(timer), resolve()) : server.waiting.push(check));
      check();
    });
  /** Answers the pending GET with these payload items. */
  server.reply = async (...items) => {
    await server.until(() => server.gets.length);
    server.gets.shift().end(items.join("\x1e"));
  };
  return server;
}

describe("the classic build in a browser without the modern globals", () => {
  let server;
  let url;
  before(async () => {
    server = fakeServer();
    await new Promise((resolve) => server.http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${server.http.address().port}`;
  });
  after(() => {
    server.http.closeAllConnections();
    server.http.close();
  });

  it("connects over XHR polling, acks with callbacks, receives binary as an array of bytes", async () => {
    const window = oldBrowser();
    assert.equal(typeof window.Promise, "undefined");
    assert.equal(typeof window.ArrayBuffer, "undefined");
    assert.equal(window.ferrio, window.io);
    const socket = window.io(url, { reconnection: false });
    assert.equal(socket.emitWithAck, undefined, "emitWithAck exists only where Promise does");
    const events = [];
    socket.on("connect", () => events.push(["connect", socket.transport]));
    socket.on("bytes", (bytes) => events.push(["bytes", Array.isArray(bytes), Array.from(bytes)]));
    socket.emit("hello", "world", (answer) => events.push(["ack", answer]));

    await server.until(() => server.posts.includes("40"));
    await server.reply('40{"sid":"s1"}');
    await server.until(() => server.posts.includes('420["hello","world"]'));
    await server.reply('430["hi"]', '451-["bytes",{"_placeholder":true,"num":0}]', "bAAECCf4A/w==");
    await server.until(() => events.length == 3);
    assert.deepEqual(events, [
      ["connect", "polling"],
      ["ack", "hi"],
      ["bytes", true, [0, 1, 2, 9, 254, 0, 255]],
    ]);
    socket.disconnect();
    await server.until(() => server.posts.includes("1"));
  });
});
