// One subscription of a ChannelClient (channel-client.js): its stream position, recovery on every
// (re)subscribe, duplicates dropped and gaps mended by resubscribing from the last good offset,
// and its token renewed with `sub_refresh` before the subscription expires.

import { backoff, isTemporary } from "./channel-retry.js";
import { ChannelToken } from "./channel-token.js";

const CONNECTING_SUBSCRIBE_TIMEOUT = { code: 3, reason: "subscribe timeout" };
const TOKEN_EXPIRED = 109;
/** The server ended the subscription because its token expired without a `sub_refresh`. */
const UNSUBSCRIBE_EXPIRED = 2501;

export class Emitter {
  constructor() { this._listeners = new Map(); }
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this._listeners.get(event)?.delete(listener);
  }
  _emit(event, value) {
    for (const listener of this._listeners.get(event) ?? []) {
      try { listener(value); } catch (error) { setTimeout(() => { throw error; }); }
    }
  }
}

export class Subscription extends Emitter {
  /**
   * @param {object} options
   *   since: {offset, epoch} to recover from (offset 0 and epoch "" = the whole stream);
   *   token, data: sent with subscribe;
   *   getToken({channel}): async, a new subscription token ("" or UnauthorizedError = none: the
   *     subscription ends with an error), asked before subscribing without a token, when the
   *     server's `ttl` runs out, and after it called the token expired;
   *   firstOffset(pub): the first offset a publication covers (default its offset; a merged
   *     publication covering several offsets reports its first);
   *   isReset(data): true for a publication that starts the stream over at a lower offset.
   */
  constructor(client, channel, options) {
    super();
    this.client = client;
    this.channel = channel;
    this.options = options;
    /** "unsubscribed" | "subscribing" | "subscribed" */
    this.state = "unsubscribed";
    this.position = options.since ? { offset: options.since.offset ?? 0, epoch: options.since.epoch ?? "" } : null;
    this.stats = { delivered: 0, duplicates: 0, gaps: 0, subscribes: 0, recovered: 0, recoveredOnResubscribe: 0, unrecovered: 0, resets: 0, refreshes: 0 };
    this._retryTimer = 0;
    this._attempt = 0;
    this._token = new ChannelToken(options.token, options.getToken);
  }

  subscribe() {
    if (this.state !== "unsubscribed") return;
    this.client.subscriptions.set(this.channel, this);
    this._setState("subscribing");
    if (this.client.state === "connected") this._sendSubscribe();
  }

  unsubscribe() {
    clearTimeout(this._retryTimer);
    this._token.cancel();
    const wasSubscribed = this.state === "subscribed";
    this._setState("unsubscribed");
    this.client.subscriptions.delete(this.channel);
    if (wasSubscribed && this.client.state === "connected") {
      this.client._call({ unsubscribe: { channel: this.channel } }).catch(() => this.client._reconnect(
        { code: 4, reason: "unsubscribe error" }));
    }
  }

  /** Subscribes again, recovering from `position` (or the current one). */
  resubscribe(position = this.position) {
    this.position = position ? { ...position } : null;
    this._token.cancel(); // the subscribe reply schedules the next renewal
    if (this.state === "unsubscribed") { this.subscribe(); return; }
    const wasSubscribed = this.state === "subscribed";
    this._setState("subscribing");
    if (this.client.state !== "connected") return;
    if (wasSubscribed) this.client._call({ unsubscribe: { channel: this.channel } }).catch(() => {});
    this._sendSubscribe();
  }

  // MARK: - Driven by the client

  _subscribeRequest() {
    const request = { channel: this.channel };
    if (this._token.token) request.token = this._token.token;
    if (this.options.data !== undefined) request.data = this.options.data;
    if (this.position) {
      request.recover = true;
      request.offset = this.position.offset;
      request.epoch = this.position.epoch;
    }
    this._requested = this.position ? { ...this.position } : null;
    return request;
  }

  _sendSubscribe() {
    if (this._token.needsFetch) { this._subscribeWithNewToken(); return; }
    const call = this._subscribeCall();
    this.client._callAll([{ subscribe: call.request }], [call.onReply]);
  }

  /** A subscribe command, and what handles its reply (at once, before the pushes after it). */
  _subscribeCall() {
    const request = this._subscribeRequest();
    const requested = this._requested;
    return { request, onReply: (reply, error) => this._onSubscribeReply(requested, reply, error) };
  }

  async _subscribeWithNewToken() {
    let token;
    try {
      token = await this._token.fetch({ channel: this.channel });
    } catch (error) {
      if (this.state !== "subscribing") return;
      if (error?.code === "unauthorized") this._giveUp(error);
      else this._retrySubscribe();
      return;
    }
    // Not connected now: the connect reply subscribes it, with this token.
    if (token === null || this.state !== "subscribing" || this.client.state !== "connected") return;
    this._sendSubscribe();
  }

  _retrySubscribe() {
    const delay = backoff(this._attempt++, this.client.options.minReconnectDelay, this.client.options.maxReconnectDelay);
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => { if (this.state === "subscribing" && this.client.state === "connected") this._sendSubscribe(); }, delay);
  }

  /** Ends the subscription for good after an error the SDKs do not retry. */
  _giveUp(error) {
    const wasSubscribed = this.state === "subscribed";
    clearTimeout(this._retryTimer);
    this._token.cancel();
    this._setState("unsubscribed", { code: error.code, reason: error.message });
    this.client.subscriptions.delete(this.channel);
    if (wasSubscribed && this.client.state === "connected") this.client._call({ unsubscribe: { channel: this.channel } }).catch(() => {});
    this._emit("error", error);
  }

  _onSubscribeReply(requested, reply, error) {
    if (error) {
      if (this.state !== "subscribing") return;
      if (error.code === "closed") return; // resubscribed after the reconnect
      if (error.code === "timeout") { this.client._reconnect(CONNECTING_SUBSCRIBE_TIMEOUT); return; }
      const renewable = error.code === TOKEN_EXPIRED && this._token.getToken !== null;
      if (renewable) this._token.stale = true;
      if (renewable || isTemporary(error)) { this._retrySubscribe(); return; }
      this._giveUp(error);
      return;
    }
    if (this.state !== "subscribing") return;
    this._attempt = 0;
    this.stats.subscribes += 1;
    const result = reply.subscribe ?? {};
    const publications = result.publications ?? [];
    const recovering = Boolean(requested);
    this._setState("subscribed", { recovered: Boolean(result.recovered), wasRecovering: Boolean(result.was_recovering) });
    if (result.expires) this._keepRenewed(result.ttl);
    if (recovering && !(result.was_recovering && result.recovered)) {
      // The server cannot fill the gap (a new epoch, history gone, a channel without recovery):
      // the position is its top now, and the application decides how to catch up
      // (`resubscribe` from 0, or fetch the state elsewhere).
      this.stats.unrecovered += 1;
      this.position = { offset: result.offset ?? 0, epoch: result.epoch ?? "" };
      this._emit("unrecovered", { offset: this.position.offset, epoch: this.position.epoch, requested });
      return;
    }
    if (recovering) {
      this.position = { offset: requested.offset, epoch: result.epoch ?? requested.epoch };
      for (const pub of publications) {
        this.stats.recovered += 1;
        if (this.stats.subscribes > 1) this.stats.recoveredOnResubscribe += 1;
        this._onPublication(pub, true);
      }
    } else if (result.epoch !== undefined || result.offset !== undefined) {
      this.position = { offset: result.offset ?? 0, epoch: result.epoch ?? "" };
    }
  }

  _onPublication(pub, recovered) {
    if (this.state !== "subscribed") return; // catching up: the recovery brings these again
    const offset = pub.offset ?? 0;
    if (offset > 0 && this.position) {
      const last = this.position.offset;
      if (offset <= last) {
        if (!this.options.isReset?.(pub.data)) { this.stats.duplicates += 1; return; }
        this.stats.resets += 1;
        this.position = { offset, epoch: "" };
        this._deliver(pub, recovered);
        return;
      }
      const first = this.options.firstOffset?.(pub) ?? offset;
      if (first > last + 1) {
        this.stats.gaps += 1;
        this._emit("gap", { expected: last + 1, got: first });
        this.resubscribe();
        return;
      }
      this.position.offset = offset;
    }
    this._deliver(pub, recovered);
  }

  _deliver(pub, recovered) {
    this.stats.delivered += 1;
    this._emit("publication", { channel: this.channel, data: pub.data, offset: pub.offset ?? 0, tags: pub.tags, recovered });
  }

  // MARK: - Token renewal

  _keepRenewed(ttl) {
    // Without getToken the server ends the subscription with 2501, and resubscribing gets 109.
    this._token.keepRenewed(ttl, {
      ctx: { channel: this.channel },
      current: () => this.state === "subscribed" && this.client.state === "connected",
      send: async (token) => (await this.client._call({ sub_refresh: { channel: this.channel, token } })).sub_refresh,
      renewed: () => { this.stats.refreshes += 1; },
      stop: (error) => this._giveUp(error),
      retryDelay: (attempt) => backoff(attempt, this.client.options.minReconnectDelay, this.client.options.maxReconnectDelay),
    });
  }

  _onServerUnsubscribe({ code, reason }) {
    if (code === UNSUBSCRIBE_EXPIRED) this._token.stale = true;
    if (code >= 2500) { this.resubscribe(); return; }
    this._token.cancel();
    this._setState("unsubscribed", { code, reason });
    this.client.subscriptions.delete(this.channel);
  }

  _connectionLost() {
    clearTimeout(this._retryTimer);
    this._token.cancel();
    if (this.state === "subscribed") this._setState("subscribing");
  }

  _setState(state, detail = {}) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state, ...detail });
    this._emit(state, detail);
  }
}
