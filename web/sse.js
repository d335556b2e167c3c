// Server-sent events from a fetch() response body, for the direct SSE mode (POST
// /v1/chat/completions with stream: true) and for GET /v1/streams/{uid}.

/** `text/event-stream` body -> {event, id, data} objects. */
export async function* sseEvents(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let current = { event: "message", id: "", data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (current.data.length) yield { event: current.event, id: current.id, data: current.data.join("\n") };
          current = { event: "message", id: "", data: [] };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") current.data.push(value);
          else if (field === "event") current.event = value;
          else if (field === "id") current.id = value;
        }
      }
      if (signal?.aborted) return;
    }
  } finally {
    reader.releaseLock();
  }
}
