// Prints the gzip and raw sizes of the minified client bundle; fails above the budget:
// 8000 bytes, a little over half of socket.io-client's ~14.5 KB gzipped.
import { gzipSync } from "node:zlib";
import { bundle } from "./bundle.js";

const LIMIT = 8000;
const code = await bundle();
const gz = gzipSync(code, { level: 9 }).length;
console.log(`ferrio-client: ${gz} bytes min+gzip, ${code.length} bytes minified (limit ${LIMIT} gzip)`);
if (gz > LIMIT) process.exit(1);
