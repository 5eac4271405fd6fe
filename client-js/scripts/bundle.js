// The minified bundle of the client: src/index.js with esbuild (ESM), `_`-prefixed internals
// renamed (as terser is told for socket.io-client) except the wire name `_placeholder`. The
// size script measures it; a test runs it against the server.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

/** The minified bundle's bytes. */
export async function bundle() {
  const { outputFiles } = await build({
    entryPoints: [fileURLToPath(new URL("../src/index.js", import.meta.url))],
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
    mangleProps: /^_/,
    reserveProps: /^_placeholder$/,
  });
  return outputFiles[0].contents;
}
