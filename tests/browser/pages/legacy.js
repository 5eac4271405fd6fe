// The classic client's scenario (legacy.html), in ES5 with callbacks only: connect, join a
// room (a second socket broadcasts to it), acks, binary from the server, a server-side close
// and the reconnection. The result goes into #result as JSON, with data-done set at the end;
// the test reads it from the DOM (nothing here depends on the deleted globals).
(function () {
  var result = { removed: window.__removed, steps: [], transports: [], done: false };
  var out = document.getElementById("result");
  var finished = false;

  function finish(error) {
    if (finished) return;
    finished = true;
    result.error = error || null;
    result.done = true;
    try {
      result.negotiation = socket.io.negotiation;
    } catch (e) {}
    out.textContent = JSON.stringify(result);
    out.setAttribute("data-done", "1");
  }
  function step(name, ok, detail) {
    result.steps.push({ name: name, ok: !!ok, detail: detail, ms: Math.round(performance.now()) });
    if (!ok) finish(name + " failed: " + JSON.stringify(detail));
  }
  setTimeout(function () {
    finish("timed out");
  }, 20000);
  window.onerror = function (message) {
    finish("page error: " + message);
  };

  if (typeof io != "function") return finish("no global io");
  result.sameGlobal = window.ferrio === io;
  var options = { reconnectionDelay: 100, reconnectionDelayMax: 500 };
  var socket = io(options);
  result.emitWithAck = typeof socket.emitWithAck;
  var connects = 0;

  socket.on("auth", function () {
    if (result.firstEventMs == null) result.firstEventMs = Math.round(performance.now());
  });
  socket.on("disconnect", function (reason, details) {
    result.disconnect = { reason: reason, details: !!details, ms: Math.round(performance.now()) };
  });
  socket.on("connect", function () {
    connects++;
    result.transports.push(socket.transport);
    if (connects == 1) {
      result.connectMs = Math.round(performance.now());
      first();
    } else if (connects == 2) {
      result.reconnectMs = Math.round(performance.now());
      socket.emit("echo-ack", "after the reconnection", function (answer) {
        step("ack after the reconnection", answer == "after the reconnection", answer);
        finish();
      });
    }
  });

  function first() {
    socket.emit("join", "legacy-room", function (room) {
      step("join with an ack callback", room == "legacy-room", room);
      // Another socket (its own connection) broadcasts to the room.
      var other = io({ forceNew: true, reconnection: false });
      socket.on("room-message", function (room, text) {
        step("room message", room == "legacy-room" && text == "to the room", [room, text]);
        other.disconnect();
        binary();
      });
      other.on("connect", function () {
        other.emit("room-broadcast", "legacy-room", "to the room", function () {});
      });
    });
  }

  function binary() {
    socket.once("bytes", function (bytes) {
      // An array of bytes where typed arrays are missing, an ArrayBuffer where they exist.
      var kind = Object.prototype.toString.call(bytes);
      var values = kind == "[object ArrayBuffer]" ? Array.prototype.slice.call(new Uint8Array(bytes)) : bytes;
      var text = kind == "[object Array]" || kind == "[object ArrayBuffer]" ? values.join(",") : String(bytes);
      result.binaryKind = kind;
      step("binary", text == "0,1,2,127,128,254,255", text);
      socket.emit("echo-ack", { n: 1, s: "é" }, function (answer) {
        step("ack with data", answer && answer.n == 1 && answer.s == "é", answer);
        // The server closes the session; the client reconnects by itself.
        socket.emit("drop");
      });
    });
    socket.emit("bytes");
  }
})();
