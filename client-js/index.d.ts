// Type definitions for ferrio-client (hand-written).

/** A map of event names to listener signatures. */
export interface EventsMap {
  [event: string]: any;
}

/** The default event map: any event, any arguments. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

/** The transports of the ladder, best first. */
export type TransportName = "websocket" | "streaming" | "polling";

/** Why a socket disconnected (the names socket.io-client uses). */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "forced close";

/**
 * The second argument of "disconnect" (and of the Manager's "close"), as socket.io-client gives
 * it: for "transport close", `{description, context}` (a string, and the CloseEvent of a
 * websocket); for "transport error", an Error of type "TransportError" whose `description` is
 * the HTTP status or the error event and `context` the request or socket; otherwise undefined.
 */
export type DisconnectDescription =
  | Error
  | { description: string; context?: unknown }
  | undefined;

/** A `connect_error`: the server's `message`, and its `data` when it sent some. */
export interface ConnectError extends Error {
  data?: unknown;
}

/** One rung tried while negotiating the transport, or one upgrade probe. */
export interface NegotiationStep {
  transport: TransportName;
  ok: boolean;
  /** Milliseconds from the attempt's start to its success or failure. */
  ms: number;
  /** Why it failed: "timeout", "transport error", "transport close", "parse error", … */
  reason?: string;
  /** Present on a websocket upgrade probe (made in the background from a lower rung). */
  upgrade?: true;
}

/** Events every Socket emits besides the application's own. */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ConnectError) => void;
  disconnect: (reason: DisconnectReason, details: DisconnectDescription) => void;
  /** The transport in use, on first connect and on every upgrade or fallback. */
  transport: (name: TransportName) => void;
}

/** Events of the Manager (`socket.io`). */
export interface ManagerReservedEvents {
  open: () => void;
  close: (reason: DisconnectReason, details: DisconnectDescription) => void;
  error: (err: Error) => void;
  ping: () => void;
  transport: (name: TransportName) => void;
  reconnect_attempt: (attempt: number) => void;
  reconnect: (attempt: number) => void;
  reconnect_error: (err: Error) => void;
  reconnect_failed: () => void;
}

export interface ManagerOptions {
  /** Mount path of the server. Default "/socket.io/". */
  path?: string;
  /** Give `path` a trailing slash when it has none. Default true (as socket.io-client). */
  addTrailingSlash?: boolean;
  /** Rungs to try, in order. Default ["websocket", "streaming", "polling"]. */
  transports?: TransportName[];
  /** Extra query parameters of every request. */
  query?: Record<string, string> | string;
  /** Reconnect after a connection loss. Default true. */
  reconnection?: boolean;
  /** Default Infinity. */
  reconnectionAttempts?: number;
  /** First reconnection delay in ms, doubled each attempt. Default 1000. */
  reconnectionDelay?: number;
  /** Cap of the reconnection delay in ms. Default 5000. */
  reconnectionDelayMax?: number;
  /** Jitter: each delay varies by ± this fraction. Default 0.5. */
  randomizationFactor?: number;
  /** Upper bound in ms of each transport attempt (the last rung gets all of it). Default 20000. */
  timeout?: number;
  /** Connect on creation. Default true. */
  autoConnect?: boolean;
  /** Start from the transport that last worked for this origin (localStorage). Default true. */
  rememberTransport?: boolean;
  /** socket.io-client's name of `rememberTransport` (used when that one is not given). */
  rememberUpgrade?: boolean;
  /**
   * Close the connection silently (no "disconnect" event) when the page unloads, as
   * socket.io-client's option. Default false.
   */
  closeOnBeforeunload?: boolean;
  /**
   * Default timeout in ms of every ack; callbacks then receive an error first. With `retries`,
   * the timeout of each try.
   */
  ackTimeout?: number;
  /**
   * Emits are queued and sent one at a time, each retried until acked: a try not acked within
   * its timeout (`ackTimeout`, or `timeout(ms)`) is sent again, at most this many times, then
   * the ack callback gets "operation has timed out"; a try lost with the connection is sent
   * again once reconnected, whatever the transport. Every try carries the same ack id, so a
   * ferrio server runs the handler once. Ack callbacks are then error-first. Volatile emits
   * are not queued. Default 0 (off).
   */
  retries?: number;
  /** Send cookies on cross-origin HTTP requests. Default false. */
  withCredentials?: boolean;
  /** Implementations to use instead of the globals (tests, Node). */
  WebSocket?: unknown;
  EventSource?: unknown;
  fetch?: typeof fetch;
}

export interface SocketOptions {
  /** Sent with the CONNECT packet: an object, or a function that calls back with one. */
  auth?: Record<string, unknown> | ((cb: (data: Record<string, unknown>) => void) => void);
  /** This namespace's `ackTimeout` (default: the Manager's). */
  ackTimeout?: number;
  /** This namespace's `retries` (default: the Manager's). */
  retries?: number;
}

export interface Options extends ManagerOptions, SocketOptions {
  /** A new connection even if one to this server exists. Default false. */
  forceNew?: boolean;
  /** Share one connection between the namespaces of a server. Default true. */
  multiplex?: boolean;
}

type Last<T extends any[]> = T extends [...any[], infer L] ? L : never;
type AllButLast<T extends any[]> = T extends [...infer H, any] ? H : any[];
type FirstArg<F> = F extends (arg: infer A, ...rest: any[]) => any ? A : never;
type Listener<Map, Ev> = Ev extends keyof Map ? Map[Ev] : (...args: any[]) => void;
/** An ack callback as `timeout()` makes it: error first. */
type WithError<F> = F extends (...args: infer A) => void ? (err: Error | null, ...args: A) => void : F;
/** Arguments of an emit after `timeout()`: the ack callback, if any, gets an error first. */
type TimedArgs<A extends any[]> = Last<A> extends (...res: any[]) => void ? [...AllButLast<A>, WithError<Last<A>>] : A;

/** What `timeout(ms)` returns: the same socket, whose next emit's ack can time out. */
export interface TimedSocket<EmitEvents extends EventsMap> {
  emit<Ev extends keyof EmitEvents>(event: Ev, ...args: TimedArgs<Parameters<EmitEvents[Ev]>>): Socket;
  /** Rejects with "operation has timed out" when no ack comes in time. */
  emitWithAck<Ev extends keyof EmitEvents>(
    event: Ev,
    ...args: AllButLast<Parameters<EmitEvents[Ev]>>
  ): Promise<FirstArg<Last<Parameters<EmitEvents[Ev]>>>>;
}

/** The application's handle on one namespace. */
export declare class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> {
  /** The Manager: the connection this socket shares. */
  readonly io: Manager;
  readonly nsp: string;
  /** The id given by the server, while connected. */
  id: string | undefined;
  connected: boolean;
  readonly disconnected: boolean;
  /** Whether the socket is connected or tries to be (reconnects). */
  readonly active: boolean;
  /** Whether the last reconnection restored the session (server-side recovery). */
  recovered: boolean;
  auth: SocketOptions["auth"];
  /** The transport in use. */
  readonly transport: TransportName | undefined;
  /** Packets emitted while disconnected, sent on connect. */
  sendBuffer: unknown[];

  connect(): this;
  open(): this;
  disconnect(): this;
  close(): this;

  /** Adds a listener; returns the socket (chainable, as socket.io-client). */
  on<Ev extends keyof SocketReservedEvents | keyof ListenEvents>(
    event: Ev,
    listener: Ev extends keyof SocketReservedEvents ? SocketReservedEvents[Ev] : Listener<ListenEvents, Ev>,
  ): this;
  /** Adds a listener; returns the function that removes it. */
  subscribe<Ev extends keyof SocketReservedEvents | keyof ListenEvents>(
    event: Ev,
    listener: Ev extends keyof SocketReservedEvents ? SocketReservedEvents[Ev] : Listener<ListenEvents, Ev>,
  ): () => void;
  /** Adds a listener called at most once; returns the socket. */
  once<Ev extends keyof SocketReservedEvents | keyof ListenEvents>(
    event: Ev,
    listener: Ev extends keyof SocketReservedEvents ? SocketReservedEvents[Ev] : Listener<ListenEvents, Ev>,
  ): this;
  /** Removes one listener, every listener of `event`, or every listener. */
  off(event?: keyof SocketReservedEvents | keyof ListenEvents, listener?: (...args: any[]) => void): this;
  removeListener(event?: keyof SocketReservedEvents | keyof ListenEvents, listener?: (...args: any[]) => void): this;
  removeAllListeners(event?: keyof SocketReservedEvents | keyof ListenEvents): this;
  listeners(event: keyof SocketReservedEvents | keyof ListenEvents): Function[];
  hasListeners(event: keyof SocketReservedEvents | keyof ListenEvents): boolean;
  /** Adds a listener of every incoming event. */
  onAny(listener: (event: string, ...args: any[]) => void): this;
  /** Adds a listener of every incoming event, called before the others. */
  prependAny(listener: (event: string, ...args: any[]) => void): this;
  /** Removes one listener of every incoming event, or all of them. */
  offAny(listener?: (event: string, ...args: any[]) => void): this;
  listenersAny(): ((event: string, ...args: any[]) => void)[];
  /** Adds a listener of every event sent (when it is sent; without the ack callback). */
  onAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  prependAnyOutgoing(listener: (event: string, ...args: any[]) => void): this;
  offAnyOutgoing(listener?: (event: string, ...args: any[]) => void): this;
  listenersAnyOutgoing(): ((event: string, ...args: any[]) => void)[];

  /** Sends an event; binary (ArrayBuffer, typed arrays, DataView, Blob) may be anywhere in args. */
  emit<Ev extends keyof EmitEvents>(event: Ev, ...args: Parameters<EmitEvents[Ev]>): this;
  /**
   * Sends an event and resolves with the first argument of the server's ack; rejects with
   * "socket has been disconnected" when the connection is lost first (with `retries`, the
   * emit is sent again instead), or with "operation has timed out" (`ackTimeout`). Only where
   * `Promise` exists (the classic build runs without it; ack callbacks work everywhere).
   */
  emitWithAck<Ev extends keyof EmitEvents>(
    event: Ev,
    ...args: AllButLast<Parameters<EmitEvents[Ev]>>
  ): Promise<FirstArg<Last<Parameters<EmitEvents[Ev]>>>>;
  /** `emit("message", ...args)`. */
  send(...args: any[]): this;
  /** The next emit's ack fails with "operation has timed out" after `ms`. */
  timeout(ms: number): TimedSocket<EmitEvents>;
  /** The next emit is dropped unless connected. */
  readonly volatile: this;
}

/** A transport object, as the engine's "upgrade" event gives it. */
export interface Transport {
  readonly name: TransportName;
}

/** The Engine.IO session of a Manager (`socket.io.engine`). */
export interface Engine {
  /** The session id (sid), once open. */
  readonly id: string | null;
  /** The transport in use, once open. */
  readonly transport: Transport | undefined;
  /** "upgrade": the new transport, when an upgrade to websocket completes (socket.io-client). */
  on(event: "upgrade", listener: (transport: Transport) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
  off(event?: string, listener?: (...args: any[]) => void): this;
}

/** One connection to a server, shared by the sockets of its namespaces. */
export declare class Manager {
  constructor(uri?: string | URL, opts?: ManagerOptions);
  /** The options, defaults included (socket.io-client's `io.opts`). */
  readonly opts: ManagerOptions;
  /** The sockets by namespace. */
  nsps: Record<string, Socket>;
  /** How the transport of the current connection was chosen. */
  negotiation: NegotiationStep[];
  /** The transport in use. */
  readonly transport: TransportName | undefined;
  /** The Engine.IO session: `id` (sid), `transport.name`, the "upgrade" event. */
  engine: Engine | undefined;
  open(callback?: (err?: Error) => void): this;
  connect(callback?: (err?: Error) => void): this;
  socket(nsp: string, opts?: SocketOptions): Socket;
  on<Ev extends keyof ManagerReservedEvents>(event: Ev, listener: ManagerReservedEvents[Ev]): this;
  subscribe<Ev extends keyof ManagerReservedEvents>(event: Ev, listener: ManagerReservedEvents[Ev]): () => void;
  once<Ev extends keyof ManagerReservedEvents>(event: Ev, listener: ManagerReservedEvents[Ev]): this;
  off(event?: keyof ManagerReservedEvents, listener?: (...args: any[]) => void): this;
  removeListener(event?: keyof ManagerReservedEvents, listener?: (...args: any[]) => void): this;
  removeAllListeners(event?: keyof ManagerReservedEvents): this;
  listeners(event: keyof ManagerReservedEvents): Function[];
  hasListeners(event: keyof ManagerReservedEvents): boolean;
}

/** A Socket for the namespace of `uri` (its path; default "/"). */
export declare function io<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
>(uri?: string | URL, opts?: Options): Socket<ListenEvents, EmitEvents>;
export declare function io<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
>(opts: Options): Socket<ListenEvents, EmitEvents>;

export { io as connect };
export default io;

/** The ladder: ["websocket", "streaming", "polling"]. */
export declare const LADDER: readonly TransportName[];
/** The Socket.IO protocol revision spoken (5). */
export declare const protocol: 5;
