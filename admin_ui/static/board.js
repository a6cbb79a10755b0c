// Pool board: drag a card onto a column that takes cards by hand to move it there. Only an
// enhancement: each card's own "Move" form does the same without JavaScript.
(() => {
  const board = document.getElementById("board");
  if (!board) return;
  let dragged = null;
  for (const card of board.querySelectorAll(".cardlet")) {
    if (!card.querySelector("form.move")) continue;
    card.draggable = true;
    card.addEventListener("dragstart", (event) => {
      dragged = card;
      event.dataTransfer.setData("text/plain", card.dataset.id);
    });
    card.addEventListener("dragend", () => { dragged = null; });
  }
  const targetOf = (column) => {
    const form = dragged && dragged.querySelector("form.move");
    if (!form || !column.dataset.manual || dragged.closest(".column") === column) return null;
    const option = form.querySelector(`option[value="${CSS.escape(column.dataset.pool)}"]`);
    return option ? form : null;
  };
  for (const column of board.querySelectorAll(".column")) {
    column.addEventListener("dragover", (event) => {
      if (targetOf(column)) { event.preventDefault(); column.classList.add("drop-target"); }
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (event) => {
      column.classList.remove("drop-target");
      const form = targetOf(column);
      if (!form) return;
      event.preventDefault();
      form.querySelector("select[name=pool]").value = column.dataset.pool;
      form.submit();
    });
  }
})();
