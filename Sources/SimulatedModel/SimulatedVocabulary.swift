/// The word and phrase lists the simulated model writes with.
///
/// The lists are about software, the subject most prompts sent through a bridge like this are
/// about, so answers read like a plausible (if vague) explanation rather than word salad.
enum SimulatedVocabulary {
    /// A verb in its two forms: "keep" / "keeps".
    struct Verb: Sendable {
        let base: String
        let third: String

        init(_ base: String, _ third: String) {
            self.base = base
            self.third = third
        }
    }

    static let nouns = [
        "server", "request", "response", "client", "connection", "buffer", "queue", "cache", "model",
        "token", "stream", "message", "thread", "process", "configuration", "database", "index",
        "timeout", "handler", "worker", "session", "channel", "consumer", "producer", "payload",
        "scheduler", "interface", "library", "function", "value", "result", "error", "file",
        "network", "memory", "limit", "application", "service", "endpoint", "record", "batch",
        "event", "pipeline", "module", "parameter", "version", "header", "user", "system",
    ]

    static let adjectives = [
        "small", "large", "simple", "reliable", "separate", "shared", "single", "default", "new",
        "existing", "slow", "fast", "local", "remote", "internal", "external", "main", "previous",
        "next", "concurrent", "independent", "temporary", "persistent", "efficient", "careful",
        "common", "specific", "explicit", "additional", "important", "bounded", "asynchronous",
    ]

    static let determiners = ["the", "the", "the", "each", "a", "this", "every", "your", "one", "that"]

    static let verbs = [
        Verb("handle", "handles"), Verb("keep", "keeps"), Verb("return", "returns"), Verb("use", "uses"),
        Verb("reduce", "reduces"), Verb("improve", "improves"), Verb("send", "sends"),
        Verb("store", "stores"), Verb("check", "checks"), Verb("control", "controls"),
        Verb("avoid", "avoids"), Verb("require", "requires"), Verb("support", "supports"),
        Verb("provide", "provides"), Verb("create", "creates"), Verb("update", "updates"),
        Verb("track", "tracks"), Verb("process", "processes"), Verb("limit", "limits"),
        Verb("replace", "replaces"), Verb("protect", "protects"), Verb("read", "reads"),
        Verb("write", "writes"), Verb("depend on", "depends on"), Verb("wait for", "waits for"),
        Verb("look up", "looks up"), Verb("release", "releases"), Verb("validate", "validates"),
        Verb("forward", "forwards"), Verb("retry", "retries"), Verb("measure", "measures"),
    ]

    static let openers = [
        "In most cases,", "For example,", "In practice,", "However,", "As a result,", "That said,",
        "Generally speaking,", "First,", "Next,", "Finally,", "On the other hand,", "In short,",
        "By default,", "In other words,", "Under load,", "At the same time,", "Similarly,",
        "To keep things simple,", "If possible,", "Most of the time,",
    ]

    static let tails = [
        "for each connection", "in the background", "without blocking the caller", "at the end of the stream",
        "over time", "when the load grows", "before it is sent", "after a short delay", "on every request",
        "in a single place", "across restarts", "under heavy traffic", "as soon as possible",
        "for a few seconds", "in memory", "on the same thread", "with very little overhead",
        "in the same order", "when something goes wrong", "at startup",
    ]

    static let connectors = [
        ", which means that", ", so", " because", " while", ", and", ", but", " so that", " unless",
        " even when", " as long as",
    ]

    static let importance = ["important", "useful", "usually better", "often easier", "a good idea", "worth trying"]

    static let answerIntros = [
        "Sure! Here is a short explanation.", "Great question.", "Here is an overview.",
        "Let's break this down step by step.", "Good question, and a common one.", "Certainly.",
    ]

    static let listIntros = [
        "Here are the main points to keep in mind:", "A few things matter most:",
        "The usual steps are:", "Some options to consider:", "In summary:",
    ]

    static let reasoningOpeners = [
        "Okay,", "Hmm,", "Wait,", "So", "Alright,", "Actually,", "Right,", "Now,", "Also,",
    ]

    static let reasoningFrames = [
        "the user is asking how", "I need to explain why", "I should check whether", "maybe I can mention that",
        "it seems that", "I wonder if", "the key point is that", "let me verify that", "I think",
        "the question is whether",
    ]

    // MARK: - Code

    static let identifiers = [
        "request", "response", "client", "items", "result", "payload", "buffer", "config", "stream",
        "message", "handler", "queue", "session", "limit", "value",
    ]

    static let functionNames = [
        "handle_request", "send_message", "load_config", "process_batch", "read_stream", "check_limit",
        "update_cache", "retry_send",
    ]

    static let methods = ["send", "read", "flush", "close", "process", "validate", "fetch", "update"]

    /// Code block templates; `{f}` is a function name, `{a}` and `{b}` identifiers, `{m}` a method, `{n}` a number.
    static let snippets: [(language: String, lines: [String])] = [
        ("python", ["def {f}({a}):", "    {b} = {a}.{m}()", "    if not {b}:", "        return None", "    return {b}"]),
        ("python", ["for {a} in {b}:", "    {a}.{m}(timeout={n})"]),
        ("swift", ["func {f}(_ {a}: Request) async throws -> Response {", "    let {b} = try await {a}.{m}()", "    return {b}", "}"]),
        ("swift", ["let {a} = try await client.{m}({b}, limit: {n})", "print({a})"]),
        ("bash", ["curl -s http://localhost:8080/{a} \\", "  -d '{\"{b}\": {n}}'"]),
        ("json", ["{", "  \"{a}\": {n},", "  \"{b}\": true", "}"]),
        ("javascript", ["const {a} = await fetch(\"/{b}\");", "console.log(await {a}.json());"]),
    ]
}
