// The entry of the classic-script build (dist/ferrio.min.js, `npm run build`): the same
// sources as the module build, exposed as the global `io` — the function, carrying the module's
// exports (`io.Manager`, `io.Socket`, `io.connect`, `io.protocol`, …) as socket.io-client's
// browser build does — also named `ferrio`.
import * as ferrio from "./src/index.js";

const io = ferrio.io;
for (const key in ferrio) io[key] = ferrio[key];
globalThis.io = globalThis.ferrio = io;
