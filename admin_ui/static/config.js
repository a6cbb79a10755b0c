// Config pages, progressive enhancement only (every form works without it):
// forms with data-busy say they are running; the editor grows with its text, keeps its line
// numbers in step, fades its error marks once edited, and jumps to a problem's line.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const busy = form.getAttribute("data-busy");
  if (!busy || event.defaultPrevented) return;  // admin.js may have asked to confirm
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.textContent = busy;
    button.disabled = true;
  }
  const note = form.querySelector(".busy");
  if (note) note.hidden = false;
});

(() => {
  const editor = document.getElementById("editor");
  const source = document.getElementById("source");
  if (!editor || !source) return;
  const gutter = editor.querySelector(".gutter");
  const stale = document.querySelector(".stale-note");

  const lineCount = () => source.value.split("\n").length;
  const fit = () => {
    const count = lineCount();
    source.rows = count + 1;
    while (gutter.children.length < count) {
      const span = document.createElement("span");
      span.textContent = String(gutter.children.length + 1);
      gutter.appendChild(span);
    }
    while (gutter.children.length > count) gutter.lastElementChild.remove();
  };
  source.addEventListener("input", () => {
    fit();
    if (!editor.classList.contains("stale") && editor.querySelector(".error, .warning")) {
      editor.classList.add("stale");
      if (stale) stale.hidden = false;
    }
  });

  const backdrop = editor.querySelector(".backdrop");
  source.addEventListener("scroll", () => {  // only when it cannot grow (very long files)
    const shift = `translateY(${-source.scrollTop}px)`;
    gutter.style.transform = shift;
    backdrop.style.transform = shift;
  });

  const goTo = (line) => {
    const lines = source.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, text) => n + text.length + 1, 0);
    source.focus({ preventScroll: true });
    source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    gutter.children[line - 1]?.scrollIntoView({ block: "center" });
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-line]");
    if (!link) return;
    event.preventDefault();
    goTo(Number(link.getAttribute("data-line")));
  });
  fit();
})();
