// Settings of the pages in web/. Edit this file where the bridge is deployed; no build step.
export default {
  // The Centrifugo-protocol WebSocket the chat subscribes on. Empty: this page's own host,
  // ws(s)://<host>/connection/websocket (the bridge's embedded channel server). Set it to an
  // external Centrifugo v6 (e.g. "wss://rt.example.com/connection/websocket") when the bridge
  // publishes there (sink `centrifugo`). A `?ws=<url>` query parameter overrides it for a visit.
  websocketURL: "",
  // A connection JWT, when the channel server (or Centrifugo) does not accept anonymous clients.
  token: "",
  // Or your backend's endpoint that mints them: GET, cookies included, answering
  // {"token": "<JWT>"} (401/403: none for this visitor). The page asks it before connecting and
  // again whenever the token is about to expire, so tokens can be short-lived. An endpoint on
  // another origin must allow this page's (CORS, with credentials) and be added to connect-src
  // in index.html's Content-Security-Policy.
  tokenURL: "",
  // The same for subscription JWTs (GET <url>?channel=<channel>), when stream channels need one
  // (channels.auth.allow_anonymous_streams: false, or Centrifugo's private channels).
  subscriptionTokenURL: "",
  // Channel of a stream: <channelPrefix><uid> (the bridge's channels.prefix).
  channelPrefix: "stream_",
  // Earlier question/answer pairs sent with each prompt as the conversation.
  historyTurns: 10,
  // How often the dashboard reads GET /api/stats (ms), and how much of it the chart shows (s).
  statsInterval: 1000,
  chartSeconds: 300,
};
