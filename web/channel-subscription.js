// One subscription of a ChannelClient (channel-client.js): its stream position, recovery on every
// (re)subscribe, duplicates dropped and gaps mended by resubscribing from the last good offset.

const CONNECTING_SUBSCRIBE_TIMEOUT = { code: 3, reason: "subscribe timeout" };

/** Reply errors worth trying again: `temporary`, or a code below 100 (transport-level). */
export function isTemporary(error) {
  return Boolean(error && (error.temporary || error.code < 100));
}

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

/** Jittered exponential backoff: between half and all of min * 2^attempt, capped at max (ms). */
export function backoff(attempt, min, max) {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export class Subscription extends Emitter {
  /**
   * @param {object} options
   *   since: {offset, epoch} to recover from (offset 0 and epoch "" = the whole stream);
   *   token, data: sent with subscribe;
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
    this.stats = { delivered: 0, duplicates: 0, gaps: 0, subscribes: 0, recovered: 0, recoveredOnResubscribe: 0, unrecovered: 0, resets: 0 };
    this._retryTimer = 0;
    this._attempt = 0;
  }

  subscribe() {
    if (this.state !== "unsubscribed") return;
    this.client.subscriptions.set(this.channel, this);
    this._setState("subscribing");
    if (this.client.state === "connected") this._sendSubscribe();
  }

  unsubscribe() {
    clearTimeout(this._retryTimer);
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
    if (this.options.token) request.token = this.options.token;
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
    this._awaitSubscribe(this.client._call({ subscribe: this._subscribeRequest() }));
  }

  async _awaitSubscribe(promise) {
    const requested = this._requested;
    let reply;
    try {
      reply = await promise;
    } catch (error) {
      if (this.state !== "subscribing") return;
      if (error.code === "closed") return; // resubscribed after the reconnect
      if (error.code === "timeout") { this.client._reconnect(CONNECTING_SUBSCRIBE_TIMEOUT); return; }
      if (isTemporary(error)) {
        const delay = backoff(this._attempt++, this.client.options.minReconnectDelay, this.client.options.maxReconnectDelay);
        this._retryTimer = setTimeout(() => { if (this.state === "subscribing" && this.client.state === "connected") this._sendSubscribe(); }, delay);
        return;
      }
      this._setState("unsubscribed", { code: error.code, reason: error.message });
      this.client.subscriptions.delete(this.channel);
      this._emit("error", error);
      return;
    }
    if (this.state !== "subscribing") return;
    this._attempt = 0;
    this.stats.subscribes += 1;
    const result = reply.subscribe ?? {};
    const publications = result.publications ?? [];
    const recovering = Boolean(requested);
    this._setState("subscribed", { recovered: Boolean(result.recovered), wasRecovering: Boolean(result.was_recovering) });
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

  _onServerUnsubscribe({ code, reason }) {
    if (code >= 2500) { this.resubscribe(); return; }
    this._setState("unsubscribed", { code, reason });
    this.client.subscriptions.delete(this.channel);
  }

  _connectionLost() {
    clearTimeout(this._retryTimer);
    if (this.state === "subscribed") this._setState("subscribing");
  }

  _setState(state, detail = {}) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state, ...detail });
    this._emit(state, detail);
  }
}
