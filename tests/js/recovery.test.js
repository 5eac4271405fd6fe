// Connection state recovery with the official socket.io-client: a client whose connection
// fails gets its socket back (same id, rooms) and the events it missed, on the conformance
// server's `/recovery/` path (recovery on for 10 s).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const URL = process.env.FERRIO_SIO_URL || process.env.FERRIO_URL || "http://127.0.0.1:3000";

function next(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

for (const transports of [["websocket"], ["polling"]]) {
  describe(`connection state recovery over ${transports[0]}`, () => {
    it("gives a dropped client its id, rooms and the events it missed", async () => {
      const opts = { path: "/recovery/", transports, forceNew: true };
      const a = io(URL, opts);
      const b = io(URL, opts);
      try {
        // `auth` is the first event: it carries an offset, so `a` can say what it received.
        await Promise.all([next(a, "auth"), next(b, "auth")]);
        assert.equal(a.recovered, false);
        const firstId = a.id;
        assert.equal(await a.timeout(2000).emitWithAck("join", "r"), "r");
        const gone = next(a, "disconnect");
        a.emit("drop");
        assert.equal((await gone)[0], "transport close");
        // While `a` is away, `b` speaks to the room.
        await b.timeout(2000).emitWithAck("room-broadcast", "r", "while you were away");
        const missed = next(a, "room-message");
        await next(a, "connect");
        assert.equal(a.recovered, true, "the socket was recovered");
        assert.equal(a.id, firstId, "same socket id");
        const [room, text] = await missed;
        assert.deepEqual([room, text], ["r", "while you were away"]);
        // Still in its room after recovery.
        const live = next(a, "room-message");
        await b.timeout(2000).emitWithAck("room-broadcast", "r", "welcome back");
        assert.deepEqual((await live).slice(0, 2), ["r", "welcome back"]);
      } finally {
        a.close();
        b.close();
      }
    });
  });
}
