// The classic-script build, dist/ferrio.min.js and its source map: classic.js (the global `io`)
// and src/ bundled into one script by esbuild, lowered to ES5 syntax by Babel (preset-env), and
// minified by terser (`_`-prefixed internals renamed, as for the module bundle). Each step
// passes its source map to the next, so the map points into src/.
//
// Babel is told to assume what holds in this code base (arrays are the only iterables spread
// or looped over, no document.all, classes only constructed with `new`, …), so its output
// needs no Symbol, Promise, Map or Set — the helpers it emits otherwise (iterators, spread,
// object spread) use them. A test runs the build with those globals deleted.
//
//   node scripts/classic.js          writes dist/ferrio.min.js and dist/ferrio.min.js.map
import { build } from "esbuild";
import { transformAsync } from "@babel/core";
import presetEnv from "@babel/preset-env";
import { minify } from "terser";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const path = (rel) => fileURLToPath(new URL(rel, root));

/** The file name the build is served under; the map is this plus `.map`. */
export const NAME = "ferrio.min.js";

/** Builds the classic script: `{code, map}` (strings), without writing anything. */
export async function classic() {
  const { outputFiles } = await build({
    entryPoints: [path("classic.js")],
    bundle: true,
    // ESM without exports: plain statements, which terser encloses in a function below (so that
    // Babel's helpers, added at the top, stay inside it too).
    format: "esm",
    target: "es2020",
    banner: { js: '"use strict";' },
    write: false,
    outfile: path(`dist/${NAME}`),
    sourcemap: "external",
    sourcesContent: true,
    define: { globalThis: "__global" },
    inject: [path("scripts/global.js")],
    legalComments: "none",
    charset: "utf8",
  });
  const bundle = outputFiles.find((f) => f.path.endsWith(".js")).text;
  const bundleMap = JSON.parse(outputFiles.find((f) => f.path.endsWith(".map")).text);
  const lowered = await transformAsync(bundle, {
    babelrc: false,
    configFile: false,
    filename: NAME,
    sourceType: "module",
    inputSourceMap: bundleMap,
    sourceMaps: true,
    compact: false,
    // Every syntax transform down to ES5; `typeof` needs no Symbol-aware helper here.
    presets: [[presetEnv, { targets: { ie: "9" }, modules: false, exclude: ["transform-typeof-symbol"] }]],
    assumptions: {
      iterableIsArray: true,
      skipForOfIteratorClosing: true,
      setSpreadProperties: true,
      objectRestNoSymbols: true,
      noDocumentAll: true,
      noClassCalls: true,
      setClassMethods: true,
      constantSuper: true,
      superIsCallableConstructor: true,
      ignoreFunctionLength: true,
      ignoreToPrimitiveHint: true,
      noNewArrows: true,
      setComputedProperties: true,
      pureGetters: true,
    },
  });
  const min = await minify(lowered.code, {
    ecma: 5,
    module: false,
    enclose: true,
    compress: { passes: 2 },
    mangle: { properties: { regex: /^_/, reserved: ["_placeholder", "__proto__"] } },
    format: { comments: false },
    sourceMap: { content: lowered.map, url: `${NAME}.map`, includeSources: true },
  });
  const map = JSON.parse(min.map);
  // Paths relative to dist/, where the map lives: "../src/engine.js".
  map.sources = map.sources.map((s) => s.replace(/^(\.\.\/)*(?=src\/|classic\.js|scripts\/)/, "../"));
  return { code: min.code + "\n", map: JSON.stringify(map) + "\n" };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, map } = await classic();
  writeFileSync(path(`dist/${NAME}`), code);
  writeFileSync(path(`dist/${NAME}.map`), map);
  console.log(`dist/${NAME}: ${code.length} bytes, dist/${NAME}.map: ${map.length} bytes`);
}
