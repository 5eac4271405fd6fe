// Loaded by legacy.html BEFORE the classic client: removes browser features so the client sees
// a browser that never had them. ?no=A,B removes those; without it, everything an old browser
// lacks: WebSocket, EventSource, fetch, ReadableStream, Promise, Map, Set, Symbol, TextEncoder,
// Blob, localStorage, and typed arrays (so binary can only arrive as an array of bytes).
// Plain ES5, as the page must run where the modern syntax does not.
(function () {
  var OLD = ["WebSocket", "EventSource", "fetch", "ReadableStream", "Promise", "Map", "Set", "WeakMap", "WeakSet",
    "Symbol", "TextEncoder", "TextDecoder", "Blob", "localStorage", "AbortController", "ArrayBuffer", "DataView",
    "Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
    "Float32Array", "Float64Array"];
  var match = /[?&]no=([^&]*)/.exec(location.search);
  var names = match ? decodeURIComponent(match[1]).split(",") : OLD;
  var removed = [];
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    try {
      delete window[name];
    } catch (e) {}
    if (typeof window[name] != "undefined") {
      try {
        window[name] = undefined;
      } catch (e) {}
    }
    removed.push([name, typeof window[name] == "undefined"]);
  }
  window.__removed = removed;
})();
