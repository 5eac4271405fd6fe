// Bundles src/index.js with esbuild (minified ESM) and prints its gzip and raw sizes; fails
// above the budget (socket.io-client's ~14.5 KB gzipped).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const LIMIT = 14500;
const entry = fileURLToPath(new URL("../src/index.js", import.meta.url));
const { outputFiles } = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: "esm",
  write: false,
  // Internals are `_`-prefixed (as terser is told for socket.io-client); the wire name stays.
  mangleProps: /^_/,
  reserveProps: /^_placeholder$/,
});
const code = outputFiles[0].contents;
const gz = gzipSync(code, { level: 9 }).length;
console.log(`ferrio-client: ${gz} bytes min+gzip, ${code.length} bytes minified (limit ${LIMIT} gzip)`);
if (gz > LIMIT) process.exit(1);
