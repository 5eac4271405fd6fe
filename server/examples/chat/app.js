// The chat page: loads the bundled client from the server, with the globals a visitor chose to
// hide removed first, so the client's fallback can be watched.
const params = new URLSearchParams(location.search);
for (const name of (params.get("no") || "").split(",").filter(Boolean)) {
  try { delete window[name]; } catch { window[name] = undefined; }
}
const { io } = await import("/socket.io/ferrio.js");

const $ = (id) => document.getElementById(id);
const forced = params.get("transport");
const nick = localStorage.getItem("ferrio-demo:nick") || `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
$("nick").value = nick;

const socket = io({
  auth: { nick },
  ...(forced ? { transports: [forced] } : {}),
});
window.chat = { socket };

let room = "lobby";
let connects = 0;
let typingTimer = 0;
const typers = new Map();

function add(node) {
  $("messages").append(node);
  node.scrollIntoView({ block: "end" });
}

function line(from, text, mine) {
  const li = document.createElement("li");
  if (mine) li.className = "mine";
  const who = document.createElement("span");
  who.className = "from";
  who.textContent = from;
  li.append(who, document.createTextNode(text));
  return li;
}

function system(text) {
  const li = document.createElement("li");
  li.className = "system";
  li.textContent = text;
  add(li);
}

function showTransport(name) {
  $("transport").textContent = name;
  $("transport").dataset.transport = name;
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} → ${name}`;
  $("changes").append(li);
  showLadder();
}

const hidden = (params.get("no") || "").split(",").filter(Boolean);

function showLadder() {
  const steps = (socket.io && socket.io.negotiation) || [];
  const skipped = hidden.map((name) => {
    const li = document.createElement("li");
    li.className = "failed";
    li.textContent = `${name} hidden from this page: its rung is skipped`;
    return li;
  });
  $("ladder").replaceChildren(...skipped, ...steps.map((s) => {
    const li = document.createElement("li");
    li.className = s.ok ? "ok" : "failed";
    const kind = s.upgrade ? "upgrade probe" : "attempt";
    li.textContent = `${s.transport} ${kind}: ${s.ok ? "ok" : "failed"} in ${Math.round(s.ms)} ms${s.reason ? ` (${s.reason})` : ""}`;
    return li;
  }));
}

async function join(next) {
  // Switch at once, so the member list and messages of the new room are not dropped while
  // the server's answer is on its way.
  const previous = room;
  room = next;
  const res = await socket.timeout(5000).emitWithAck("join", next).catch(() => null);
  if (!res || res.error) {
    room = previous;
    return system(`could not join #${next}`);
  }
  $("room-title").textContent = `#${room}`;
  for (const b of $("rooms").querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset.room === room));
  $("messages").replaceChildren();
  system(`you joined #${room}`);
}

socket.on("connect", () => {
  connects += 1;
  $("reconnects").textContent = String(connects - 1);
  $("status").textContent = "connected";
  $("sid").textContent = socket.id;
  showLadder();
  join(room);
});
socket.on("disconnect", (reason) => {
  $("status").textContent = `disconnected (${reason})`;
});
socket.on("connect_error", (err) => {
  $("status").textContent = `error: ${err.message}`;
  showLadder();
});
socket.on("transport", showTransport);

socket.on("rooms", (rooms) => {
  $("rooms").replaceChildren(...rooms.map((name) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.room = name;
    b.textContent = `#${name}`;
    b.setAttribute("aria-current", String(name === room));
    b.onclick = () => join(name);
    li.append(b);
    return li;
  }));
});

socket.on("members", ({ room: r, members }) => {
  if (r !== room) return;
  $("members").replaceChildren(...members.map((m) => {
    const li = document.createElement("li");
    li.textContent = m;
    return li;
  }));
});

socket.on("chat", (msg) => {
  if (msg.room !== room) return;
  typers.delete(msg.from);
  renderTyping();
  add(line(msg.from, msg.text, false));
});

function renderTyping() {
  const names = [...typers.keys()];
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

socket.on("typing", ({ room: r, nick: who, typing }) => {
  if (r !== room) return;
  clearTimeout(typers.get(who));
  if (typing) typers.set(who, setTimeout(() => { typers.delete(who); renderTyping(); }, 4000));
  else typers.delete(who);
  renderTyping();
});

$("send-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  socket.emit("typing", { room, typing: false });
  const li = line(nick, text, true);
  const status = document.createElement("span");
  status.className = "status";
  status.textContent = "sent";
  li.append(status);
  add(li);
  const res = await socket.timeout(10000).emitWithAck("chat", { room, text }).catch(() => null);
  if (res && res.delivered) {
    status.textContent = "delivered";
    status.classList.add("delivered");
  } else {
    status.textContent = "not delivered";
  }
});

$("text").addEventListener("input", () => {
  if (!typingTimer) socket.emit("typing", { room, typing: true });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typingTimer = 0; socket.emit("typing", { room, typing: false }); }, 1500);
});

$("nick-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("nick").value.trim();
  if (!value) return;
  localStorage.setItem("ferrio-demo:nick", value);
  location.reload();
});

// The round trip, measured through the connection itself.
setInterval(async () => {
  if (!socket.connected) return;
  const start = performance.now();
  try {
    await socket.timeout(3000).emitWithAck("rtt");
    $("rtt").textContent = `${(performance.now() - start).toFixed(1)} ms`;
  } catch {
    $("rtt").textContent = "timed out";
  }
}, 2000);
