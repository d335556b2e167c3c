// Tokens that expire, for ChannelClient and its subscriptions: the current token, the
// application's `getToken(ctx)` that makes a new one (the same callback centrifuge-js takes:
// ctx is {} for the connection, {channel} for a subscription), and the timer that renews it.

import { isTemporary } from "./channel-retry.js";

/** Thrown (or signalled by an empty token) when the application will give no token: the SDKs
 * then stop for good instead of retrying. */
export class UnauthorizedError extends Error {
  constructor(message = "unauthorized") {
    super(message);
    this.name = "UnauthorizedError";
    this.code = "unauthorized";
  }
}

export class ChannelToken {
  /**
   * @param {string} token the token to start with ("" = get one first, when getToken is set)
   * @param {((ctx: object) => Promise<string>) | undefined} getToken
   */
  constructor(token, getToken) {
    this.token = token ?? "";
    this.getToken = typeof getToken === "function" ? getToken : null;
    /** Set when the server called the token expired (109, close 3005, unsubscribe 2501). */
    this.stale = false;
    this._timer = 0;
    this._fetches = 0;
    this._attempt = 0;
  }

  /** True when the next connect or subscribe must wait for a new token. */
  get needsFetch() {
    return this.getToken !== null && (this.stale || this.token === "");
  }

  /**
   * Asks the application for a new token. Resolves with it, or with null when a newer fetch
   * started meanwhile (its answer is the one that counts). Rejects with UnauthorizedError for an
   * empty token, and with whatever getToken threw otherwise (a temporary failure: retry).
   */
  async fetch(ctx) {
    const fetch = ++this._fetches;
    let token;
    try {
      token = await this.getToken(ctx);
    } catch (error) {
      if (fetch !== this._fetches) return null; // a newer fetch (or a cancel) decides
      throw error ?? new Error("getToken failed");
    }
    if (fetch !== this._fetches) return null;
    if (typeof token !== "string" || token === "") throw new UnauthorizedError("getToken gave no token");
    this.token = token;
    this.stale = false;
    return token;
  }

  /** Runs `renew` after `ms` (replacing any earlier timer). */
  schedule(ms, renew) {
    clearTimeout(this._timer);
    this._timer = setTimeout(renew, Math.max(0, ms));
  }

  /** Stops the renewal timer, and makes any fetch under way count for nothing. */
  cancel() {
    clearTimeout(this._timer);
    this._fetches += 1;
    this._attempt = 0;
  }

  /**
   * Keeps the token of an open connection or subscription renewed: when the server's `ttl`
   * (seconds) runs out, gets a new token and `send`s it (resolving with the server's result,
   * whose `expires`/`ttl` schedule the next round). The server waits `expired_close_delay` past
   * the deadline, so sending at it is in time. A temporary failure (getToken threw, a timeout,
   * a `temporary` error) tries again after `retryDelay(attempt)` ms; `stop(error)` gets the
   * rest: an UnauthorizedError, or the server refusing the new token. Once `current()` is
   * false the connection or subscription is gone and the renewal ends quietly.
   * Without getToken there is nothing to renew with: the server ends it at expiry.
   *
   * @param {number} ttl
   * @param {{ctx: object, current: () => boolean, send: (token: string) => Promise<object>,
   *   renewed: () => void, stop: (error: Error) => void, retryDelay: (attempt: number) => number}} renewal
   */
  keepRenewed(ttl, renewal) {
    if (this.getToken === null) return;
    this._attempt = 0;
    this.schedule((Number(ttl) || 0) * 1000, () => this._renew(renewal));
  }

  async _renew(renewal) {
    // A timer that outlived its connection or subscription asks for nothing: a fetch here would
    // make the fetch of a resubscribe under way count for nothing.
    if (!renewal.current()) return;
    const again = () => this.schedule(renewal.retryDelay(this._attempt++), () => this._renew(renewal));
    let token;
    try {
      token = await this.fetch(renewal.ctx);
    } catch (error) {
      if (!renewal.current()) return;
      if (error?.code === "unauthorized") renewal.stop(error);
      else again();
      return;
    }
    if (token === null || !renewal.current()) return;
    let result;
    try {
      result = await renewal.send(token);
    } catch (error) {
      if (!renewal.current() || error.code === "closed") return;
      if (error.code === "timeout" || isTemporary(error)) again();
      else renewal.stop(error);
      return;
    }
    if (!renewal.current()) return;
    renewal.renewed();
    this._attempt = 0;
    if (result?.expires) this.keepRenewed(result.ttl, renewal);
  }
}

/**
 * A getToken for an application endpoint that answers `{"token": "..."}`, as centrifuge-js's
 * examples do: GET `url` (with `?channel=` for a subscription), cookies included. 401 and 403
 * mean "no token for you" (UnauthorizedError); other failures are temporary.
 */
export function tokenFromURL(url) {
  return async (ctx = {}) => {
    const target = new URL(url, location.href);
    if (ctx.channel) target.searchParams.set("channel", ctx.channel);
    const response = await fetch(target, { credentials: "include", cache: "no-store" });
    if (response.status === 401 || response.status === 403) throw new UnauthorizedError(`token endpoint answered ${response.status}`);
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    const body = await response.json();
    return typeof body?.token === "string" ? body.token : "";
  };
}
