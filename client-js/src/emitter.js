// A small typed event emitter with socket.io-client's habits: `on`, `once` and `off` return the
// emitter (chainable); `subscribe` returns the function that removes the listener.
//
// A listener that throws does not stop the others, nor the code that emitted (a transport's
// receive loop, the rest of a polling payload): as an EventTarget does, the error is reported
// (`report`) and the emit goes on.

/**
 * A map keyed by names an application or a peer chooses (events, namespaces, ack ids): without
 * a prototype, so "constructor", "__proto__" or "toString" are keys like any other.
 */
export const dict = () => Object.create(null);

/**
 * Reports an error without throwing it at the caller: with `reportError` where the platform has
 * it (browsers: the console and the window's "error" event), else thrown from a timer (the
 * console; in Node, an uncaught exception, as any other).
 */
export const report = (err) =>
  globalThis.reportError
    ? reportError(err)
    : setTimeout(() => {
        throw err;
      });

/** Calls an application function; what it throws is reported, not thrown. */
export function invoke(fn, self, args) {
  try {
    fn.apply(self, args);
  } catch (err) {
    report(err);
  }
}

export class Emitter {
  constructor() {
    /** @type {Record<string, Function[]>} */
    this._listeners = dict();
  }

  /** Adds a listener; returns the emitter. */
  on(event, fn) {
    (this._listeners[event] ||= []).push(fn);
    return this;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(event, fn) {
    this.on(event, fn);
    return () => this.off(event, fn);
  }

  /** Adds a listener called at most once; returns the emitter. */
  once(event, fn) {
    const once = (...args) => {
      this.off(event, once);
      fn.apply(this, args);
    };
    once._listener = fn;
    return this.on(event, once);
  }

  /** Removes one listener, every listener of `event`, or every listener at all. */
  off(event, fn) {
    if (event === undefined) this._listeners = dict();
    else if (!fn) delete this._listeners[event];
    else {
      const list = this._listeners[event] || [];
      const i = list.findIndex((f) => f === fn || f._listener === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** The listeners of `event`. */
  listeners(event) {
    return (this._listeners[event] || []).slice();
  }

  hasListeners(event) {
    return !!this.listeners(event).length;
  }

  /** Calls the listeners of `event` with `args`. */
  emit(event, ...args) {
    return this._emit(event, ...args);
  }

  _emit(event, ...args) {
    for (const fn of this.listeners(event)) invoke(fn, this, args);
    return this;
  }
}

// socket.io-client's other names of `off`.
Emitter.prototype.removeListener = Emitter.prototype.removeAllListeners = Emitter.prototype.off;
