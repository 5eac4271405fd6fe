// Prints the gzip and raw sizes of the minified client, both builds; fails above a budget:
// - the module build (src/index.js bundled and minified by esbuild): 8000 bytes, under 55% of
//   socket.io-client's ~14.5 KB gzipped. (Issue 13's socket.io-client habits and old-browser
//   support, then issue 11's retries and lossless HTTP transports, took it to 8397; savings
//   brought it back under 8000: the SSE reader on byte strings, one attempt routine for rungs
//   and probes, the Socket.IO header read by a regex, methods used once inlined, …)
// - the classic build (dist/ferrio.min.js, ES5, as served): 11000 bytes.
import { gzipSync } from "node:zlib";
import { bundle } from "./bundle.js";
import { NAME, classic } from "./classic.js";

const builds = [
  ["module", await bundle(), 8000],
  [`classic (${NAME})`, Buffer.from((await classic()).code), 11000],
];
let over = false;
for (const [name, code, limit] of builds) {
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`ferrio-client ${name}: ${gz} bytes min+gzip, ${code.length} bytes minified (limit ${limit} gzip)`);
  over ||= gz > limit;
}
if (over) process.exit(1);
