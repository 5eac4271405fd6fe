// Injected into the classic build in place of `globalThis`, which browsers older than 2019 do not
// have; `self` is the global object in every browser, window or worker.
export const __global = self;
