// Added latency of a forwarded polling request: one node of a 3-node cluster (no nginx) owns an
// Engine.IO session on /engine.io/ (the raw echo); a round trip (POST a message, then the GET
// that returns its echo) is timed sent straight to the owner, then through another node, which
// forwards both requests. Prints p50/p90/p99 of each and the difference.
//
//   node tests/cluster/forward-latency.js [rounds=2000]
import http from "node:http";
import { startCluster } from "./harness.js";

const ROUNDS = Number(process.argv[2] || 2000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function request(port, method, query, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: `/engine.io/?EIO=4&transport=polling${query}`, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function roundTrips(owner, via) {
  const open = await request(owner, "GET", "");
  const sid = JSON.parse(open.body.slice(1)).sid;
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    await request(via, "POST", `&sid=${sid}`, `4m${i}`);
    let got = "";
    // The echo, or a ping to answer first (pings come every 300 ms).
    while (!got.includes(`4m${i}`)) {
      const r = await request(via, "GET", `&sid=${sid}`);
      if (r.status !== 200) throw new Error(`GET ${r.status} ${r.body}`);
      got = r.body;
      if (got.split("\x1e").includes("2")) await request(via, "POST", `&sid=${sid}`, "3");
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await request(owner, "POST", `&sid=${sid}`, "1");
  return times.sort((a, b) => a - b);
}

const cluster = await startCluster(3);
try {
  const [a, b] = cluster.nodes.map((n) => n.port);
  await roundTrips(a, a); // warm-up
  const direct = await roundTrips(a, a);
  const forwarded = await roundTrips(a, b);
  const row = (name, xs) => `${name}: p50 ${pct(xs, 50).toFixed(3)} ms, p90 ${pct(xs, 90).toFixed(3)} ms, p99 ${pct(xs, 99).toFixed(3)} ms`;
  console.log(`${ROUNDS} polling round trips (POST + GET) per case`);
  console.log(row("direct   ", direct));
  console.log(row("forwarded", forwarded));
  console.log(`added by forwarding: p50 +${(pct(forwarded, 50) - pct(direct, 50)).toFixed(3)} ms, p99 +${(pct(forwarded, 99) - pct(direct, 99)).toFixed(3)} ms (two forwarded requests per round trip)`);
} finally {
  await cluster.stop();
}
