// Prints the gzip and raw sizes of the minified client, both builds; fails above a budget:
// - the module build (src/index.js bundled and minified by esbuild): 8400 bytes, under 60% of
//   socket.io-client's ~14.5 KB gzipped. (It was 8000 until issue 13 added socket.io-client's
//   listener and outgoing-event methods, disconnect details, closeOnBeforeunload and the rest,
//   the silent-websocket budget and what old browsers need: about 430 bytes gzipped. Issue
//   11's retries and lossless HTTP transports, about 480 more, were paid for by savings: the
//   SSE reader, the placeholder check, the UTF-8 length, the ack bookkeeping.)
// - the classic build (dist/ferrio.min.js, ES5, as served): 11000 bytes.
import { gzipSync } from "node:zlib";
import { bundle } from "./bundle.js";
import { NAME, classic } from "./classic.js";

const builds = [
  ["module", await bundle(), 8400],
  [`classic (${NAME})`, Buffer.from((await classic()).code), 11000],
];
let over = false;
for (const [name, code, limit] of builds) {
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`ferrio-client ${name}: ${gz} bytes min+gzip, ${code.length} bytes minified (limit ${limit} gzip)`);
  over ||= gz > limit;
}
if (over) process.exit(1);
