// A small client for Centrifugo's client protocol v2, JSON over WebSocket: the frames
// centrifuge-js sends, so it talks to the bridge's /connection/websocket and to a real
// Centrifugo v6 alike. No build step, no dependencies.
//
//   const client = new ChannelClient("ws://host/connection/websocket");
//   const sub = client.newSubscription("stream_<uid>", {since: {offset: 0, epoch: ""}});
//   sub.on("publication", ({data, offset}) => ...);
//   sub.subscribe(); client.connect();
//
// What it does beyond sending frames:
// - keeps each subscription's stream position (offset, epoch) and, on every reconnect or
//   resubscribe, asks the server to recover from it (`recover`, `offset`, `epoch`);
// - drops publications at or below the position (duplicates) and treats one past the next
//   expected offset as a gap: it resubscribes with recovery from the last good offset and
//   ignores publications until the server's catch-up arrives;
// - answers server pings (`{}`) with `{}` when the server asked for pongs, and reconnects when
//   no frame arrived for `ping` + maxServerPingDelay;
// - with `getToken`, renews expiring tokens as centrifuge-js does: the connection's with
//   `refresh` and a subscription's with `sub_refresh` when the server's `ttl` runs out, and a
//   fresh one after error 109, close 3005 or unsubscribe 2501 (the token expired);
// - reconnects with jittered exponential backoff, except after the terminal close codes
//   (3500-3999, 4500-4999, 1009) and connect errors, exactly as the official SDKs decide.

import { backoff, isTemporary } from "./channel-retry.js";
import { Emitter, Subscription } from "./channel-subscription.js";
import { ChannelToken, UnauthorizedError } from "./channel-token.js";

export { Subscription, UnauthorizedError };

const CONNECTING_NO_PING = { code: 2, reason: "no ping" };
const CONNECTING_TRANSPORT_CLOSED = { code: 1, reason: "transport closed" };
const CONNECTING_OFFLINE = { code: 1, reason: "browser offline" };
const DISCONNECTED_UNAUTHORIZED = { code: 1, reason: "unauthorized" };
/** The server's codes for "this token expired": a reply error, and a close. */
const TOKEN_EXPIRED = 109;
const CLOSE_EXPIRED = 3005;

/** Close codes after which the SDKs stop for good. */
export function isTerminalClose(code) {
  return (code >= 3500 && code < 4000) || (code >= 4500 && code < 5000) || code === 1009;
}

export class ChannelClient extends Emitter {
  /**
   * @param {string} url ws:// or wss:// address of the endpoint
   * @param {object} [options] name, version, token (connection JWT), getToken (async ({}) =>
   *   a new token; "" or UnauthorizedError = none, which stops the client), data, timeout (ms
   *   for each command), minReconnectDelay/maxReconnectDelay (ms), maxServerPingDelay (ms)
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = {
      name: "js", version: "", token: "", data: undefined, timeout: 5000,
      minReconnectDelay: 500, maxReconnectDelay: 20000, maxServerPingDelay: 10000, ...options,
    };
    /** "disconnected" | "connecting" | "connected" */
    this.state = "disconnected";
    this.clientId = "";
    this.subscriptions = new Map();
    this.stats = { connects: 0, reconnects: 0, pongs: 0, refreshes: 0, lastClose: null };
    this._token = new ChannelToken(this.options.token, this.options.getToken);
    this._nextId = 1;
    this._pending = new Map();
    this._socket = null;
    this._attempt = 0;
    this._reconnectTimer = 0;
    this._pingTimer = 0;
    this._ping = 0;
    this._pong = false;
    this._waitingForOnline = false;
    if (typeof window !== "undefined") {
      window.addEventListener("offline", () => this._onOffline());
      window.addEventListener("online", () => this._onOnline());
    }
  }

  // MARK: - Public API

  connect() {
    if (this.state !== "disconnected") return;
    this._attempt = 0;
    this._waitingForOnline = typeof navigator !== "undefined" && navigator.onLine === false;
    this._setState("connecting", { code: 0, reason: "connect called" });
    this._openTransport();
  }

  disconnect() {
    clearTimeout(this._reconnectTimer);
    this._dropTransport(1000, "disconnect called");
    this._connectionLost({ code: 0, reason: "disconnect called" }, false);
  }

  newSubscription(channel, options = {}) {
    if (this.subscriptions.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const subscription = new Subscription(this, channel, options);
    this.subscriptions.set(channel, subscription);
    return subscription;
  }

  /** Sends `rpc`; waits for the connection (up to the timeout) when it is not up yet. */
  async rpc(method, data) {
    await this.ready();
    const reply = await this._call({ rpc: { method, data } });
    return reply.rpc?.data;
  }

  /** Resolves once connected; rejects after the timeout or when the client gives up. */
  ready(timeout = this.options.timeout) {
    if (this.state === "connected") return Promise.resolve();
    if (this.state === "disconnected") return Promise.reject(new Error("client is disconnected"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new Error("timed out waiting for the connection")); }, timeout);
      const off = this.on("state", ({ state }) => {
        if (state === "connected") { clearTimeout(timer); off(); resolve(); }
        if (state === "disconnected") { clearTimeout(timer); off(); reject(new Error("client is disconnected")); }
      });
    });
  }

  // MARK: - Transport

  _openTransport() {
    if (this._waitingForOnline) return;
    if (this._token.needsFetch) { this._openWithNewToken(); return; }
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this._connectionLost({ code: 2, reason: `bad address: ${error.message}` }, false);
      return;
    }
    this._socket = socket;
    socket.onopen = () => this._sendConnect();
    socket.onmessage = (event) => this._onFrame(event.data);
    socket.onerror = () => {}; // a close follows, with the code that decides what to do
    socket.onclose = (event) => {
      if (this._socket !== socket) return;
      this._socket = null;
      this.stats.lastClose = { code: event.code, reason: event.reason };
      if (event.code === CLOSE_EXPIRED) this._token.stale = true;
      const terminal = isTerminalClose(event.code);
      const reason = event.code >= 3000 ? { code: event.code, reason: event.reason } : CONNECTING_TRANSPORT_CLOSED;
      this._connectionLost(reason, !terminal);
    };
  }

  /** Gets a token before opening the socket, so the server's connect timeout does not run
   * while the application mints it. */
  async _openWithNewToken() {
    let token;
    try {
      token = await this._token.fetch({});
    } catch (error) {
      if (this.state !== "connecting" || this._socket) return;
      if (error?.code === "unauthorized") { this._connectionLost(DISCONNECTED_UNAUTHORIZED, false); return; }
      this._connectionLost({ code: 1, reason: `getToken failed: ${error?.message ?? error}` }, true);
      return;
    }
    if (token === null || this.state !== "connecting" || this._socket) return;
    this._openTransport();
  }

  /** Closes the socket from this side without waiting for its close event. */
  _dropTransport(code, reason) {
    const socket = this._socket;
    this._socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try { socket.close(code, reason); } catch { /* already closing */ }
  }

  _send(commands) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) return false;
    this._socket.send(commands.map((command) => JSON.stringify(command)).join("\n"));
    return true;
  }

  /**
   * Sends commands in one frame. Each reply settles its promise or, when a handler is given for
   * it, goes to that handler at once: a subscribe reply must be applied before the pushes that
   * follow it in the same frame, and a promise's continuation would only run after them.
   */
  _callAll(bodies, handlers = []) {
    if (bodies.length === 0) return [];
    const calls = bodies.map((body, index) => {
      const id = this._nextId++;
      const command = { id, ...body };
      const handler = handlers[index];
      const expire = (settle) => setTimeout(() => {
        this._pending.delete(id);
        settle(Object.assign(new Error("timeout"), { code: "timeout" }));
      }, this.options.timeout);
      if (handler) {
        this._pending.set(id, { handler, timer: expire((error) => handler(null, error)) });
        return { command, promise: undefined };
      }
      const promise = new Promise((resolve, reject) => {
        this._pending.set(id, { resolve, reject, timer: expire(reject) });
      });
      return { command, promise };
    });
    if (!this._send(calls.map((call) => call.command))) {
      for (const { command } of calls) this._settle(command.id, null, { code: "closed", message: "not connected" });
    }
    return calls.map((call) => call.promise);
  }

  _call(body) { return this._callAll([body])[0]; }

  _settle(id, reply, error) {
    const pending = this._pending.get(id);
    if (!pending) return;
    this._pending.delete(id);
    clearTimeout(pending.timer);
    const failure = error ? Object.assign(new Error(error.message ?? "error"), error) : null;
    if (pending.handler) pending.handler(failure ? null : reply, failure);
    else if (failure) pending.reject(failure);
    else pending.resolve(reply);
  }

  _onFrame(text) {
    this._armPingWatchdog();
    if (typeof text !== "string") return;
    const socket = this._socket;
    for (const line of text.split("\n")) {
      // A handler or listener closed this socket: the rest of its frame is not for us.
      if (this._socket !== socket) return;
      if (!line.trim()) continue;
      let reply;
      try { reply = JSON.parse(line); } catch { continue; }
      if (reply.id > 0) this._settle(reply.id, reply, reply.error);
      else if (reply.push) this._onPush(reply.push);
      else this._onPing();
    }
  }

  _onPing() {
    if (this._pong && this._send([{}])) this.stats.pongs += 1;
  }

  _armPingWatchdog() {
    clearTimeout(this._pingTimer);
    if (this.state !== "connected" || this._ping <= 0) return;
    this._pingTimer = setTimeout(() => {
      this._dropTransport(4000, "no ping");
      this._connectionLost(CONNECTING_NO_PING, true);
    }, this._ping * 1000 + this.options.maxServerPingDelay);
  }

  // MARK: - Connection lifecycle

  async _sendConnect() {
    const connect = { name: this.options.name };
    if (this.options.version) connect.version = this.options.version;
    if (this._token.token) connect.token = this._token.token;
    if (this.options.data !== undefined) connect.data = this.options.data;
    const socket = this._socket;
    let reply;
    try {
      reply = await this._call({ connect });
    } catch (error) {
      if (this._socket !== socket) return;
      this._dropTransport(4000, "connect failed");
      // 109 (token expired): with getToken, reconnect with a new one; without, like other
      // errors, terminal.
      const renewable = error.code === TOKEN_EXPIRED && this._token.getToken !== null;
      if (renewable) this._token.stale = true;
      this._connectionLost({ code: error.code, reason: error.message }, renewable || error.code === "timeout" || isTemporary(error));
      return;
    }
    if (this._socket !== socket) return;
    const result = reply.connect ?? {};
    this.clientId = result.client ?? "";
    this._ping = result.ping ?? 0;
    this._pong = Boolean(result.pong);
    this.stats.connects += 1;
    if (this.stats.connects > 1) this.stats.reconnects += 1;
    this._attempt = 0;
    this._setState("connected", { client: this.clientId });
    this._armPingWatchdog();
    if (result.expires) this._keepRenewed(result.ttl);
    // Like centrifuge-js: every pending subscribe goes out in one frame, except those waiting
    // for a token of their own.
    const waiting = [...this.subscriptions.values()].filter((sub) => sub.state === "subscribing");
    const ready = waiting.filter((sub) => !sub._token.needsFetch);
    const calls = ready.map((sub) => sub._subscribeCall());
    this._callAll(calls.map((call) => ({ subscribe: call.request })), calls.map((call) => call.onReply));
    for (const sub of waiting) if (sub._token.needsFetch) sub._sendSubscribe();
  }

  // MARK: - Token renewal

  _keepRenewed(ttl) {
    // Without getToken the server closes with 3005, and reconnecting gets 109.
    const socket = this._socket;
    this._token.keepRenewed(ttl, {
      ctx: {},
      current: () => this._socket === socket && this.state === "connected",
      send: async (token) => (await this._call({ refresh: { token } })).refresh,
      renewed: () => { this.stats.refreshes += 1; },
      stop: (error) => {
        this._dropTransport(4000, "refresh failed");
        this._connectionLost(error.code === "unauthorized" ? DISCONNECTED_UNAUTHORIZED : { code: error.code, reason: error.message }, false);
      },
      retryDelay: (attempt) => backoff(attempt, this.options.minReconnectDelay, this.options.maxReconnectDelay),
    });
  }

  _connectionLost(reason, reconnect) {
    clearTimeout(this._pingTimer);
    this._token.cancel();
    for (const id of [...this._pending.keys()]) this._settle(id, null, { code: "closed", message: "connection closed" });
    for (const sub of this.subscriptions.values()) sub._connectionLost();
    if (!reconnect) {
      clearTimeout(this._reconnectTimer);
      this._setState("disconnected", reason);
      return;
    }
    this._setState("connecting", reason);
    clearTimeout(this._reconnectTimer);
    if (this._waitingForOnline) return;
    const delay = backoff(this._attempt++, this.options.minReconnectDelay, this.options.maxReconnectDelay);
    this._reconnectTimer = setTimeout(() => this._openTransport(), delay);
  }

  /** The browser lost its network: close now instead of waiting for pings to stop. */
  _onOffline() {
    this._waitingForOnline = true;
    if (this.state === "disconnected") return;
    this._dropTransport(4000, "offline");
    this._connectionLost(CONNECTING_OFFLINE, true);
  }

  _onOnline() {
    this._waitingForOnline = false;
    if (this.state !== "connecting" || this._socket) return;
    clearTimeout(this._reconnectTimer);
    this._openTransport();
  }

  _setState(state, detail = {}) {
    const changed = this.state !== state;
    this.state = state;
    if (changed || state === "connecting") this._emit("state", { state, ...detail });
  }

  /** Forces a reconnect, as after a subscribe that timed out (what both SDKs do). */
  _reconnect(reason) {
    this._dropTransport(4000, reason.reason);
    this._connectionLost(reason, true);
  }

  _onPush(push) {
    const sub = this.subscriptions.get(push.channel);
    if (push.disconnect) {
      const { code, reason } = push.disconnect;
      if (code === CLOSE_EXPIRED) this._token.stale = true;
      this._dropTransport(4000, "disconnect push");
      this._connectionLost({ code, reason }, !isTerminalClose(code));
      return;
    }
    if (!sub) return;
    if (push.pub) sub._onPublication(push.pub, false);
    else if (push.unsubscribe) sub._onServerUnsubscribe(push.unsubscribe);
  }
}
