// Model output as text: paragraphs keep their line breaks, ``` fences become code blocks.
// Everything is set through textContent; no model text ever becomes markup.

/** Splits text into {kind: "text"|"code", text, lang} segments; an open fence runs to the end. */
export function segments(text) {
  const out = [];
  let rest = text;
  let inCode = false;
  let lang = "";
  while (rest.length > 0) {
    // A fence is ``` at the start of a line.
    const match = /(^|\n)```/.exec(rest);
    if (!match) { out.push({ kind: inCode ? "code" : "text", text: rest, lang }); break; }
    const before = rest.slice(0, match.index + (inCode ? 0 : match[1].length));
    if (before) out.push({ kind: inCode ? "code" : "text", text: inCode ? before.replace(/^\n/, "") : before, lang });
    rest = rest.slice(match.index + match[0].length);
    if (!inCode) {
      const newline = rest.indexOf("\n");
      lang = (newline < 0 ? rest : rest.slice(0, newline)).trim().slice(0, 24);
      rest = newline < 0 ? "" : rest.slice(newline + 1);
    } else {
      const newline = rest.indexOf("\n");
      rest = newline < 0 ? "" : rest.slice(newline + 1);
      lang = "";
    }
    inCode = !inCode;
  }
  return out;
}

/** Replaces the children of `container` with the rendering of `text`. */
export function renderText(container, text) {
  const nodes = segments(text).map((segment) => {
    if (segment.kind === "text") {
      const div = document.createElement("div");
      div.className = "prose";
      div.textContent = segment.text;
      return div;
    }
    const pre = document.createElement("pre");
    pre.className = "code";
    if (segment.lang) {
      const label = document.createElement("span");
      label.className = "lang";
      label.textContent = segment.lang;
      pre.append(label);
    }
    const code = document.createElement("code");
    code.textContent = segment.text;
    pre.append(code);
    return pre;
  });
  container.replaceChildren(...nodes);
}
