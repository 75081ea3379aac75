// Authoring pages work without this file: Up and Down buttons reorder, every field is shown.
// With it, domains and questions can also be dragged into place (the same order form is posted),
// and a question's form shows only the settings its type uses.
(function () {
  "use strict";

  function postOrder(list) {
    var form = document.getElementById(list.dataset.form);
    if (!form) return;
    var data = new FormData(form); // the hidden "order" inputs, in their new document order
    data.delete("move");
    fetch(form.action, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) {
        window.location.reload();
        return;
      }
      return response.text().then(function (message) {
        window.alert(message || "The new order was not saved.");
        window.location.reload();
      });
    });
  }

  function sortable(list) {
    var dragged = null;
    Array.prototype.forEach.call(list.children, function (item) {
      if (item.tagName !== "LI") return;
      item.draggable = true;
      var handle = item.querySelector(".drag-handle");
      if (handle) handle.hidden = false;
      item.addEventListener("dragstart", function (event) {
        event.stopPropagation(); // a question's drag is not its domain's
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.dataset.id);
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged.parentNode !== list || dragged === item) return;
        event.preventDefault();
        event.stopPropagation();
        item.classList.add("drop-target");
      });
      item.addEventListener("dragleave", function () {
        item.classList.remove("drop-target");
      });
      item.addEventListener("drop", function (event) {
        item.classList.remove("drop-target");
        if (!dragged || dragged.parentNode !== list || dragged === item) return;
        event.preventDefault();
        event.stopPropagation();
        var items = Array.prototype.slice.call(list.children);
        var before = items.indexOf(dragged) > items.indexOf(item) ? item : item.nextSibling;
        list.insertBefore(dragged, before);
        postOrder(list);
      });
    });
  }

  // Choice rows: dragging a row renumbers the order inputs, which are saved with the form.
  function sortableRows(tbody) {
    var dragged = null;
    function renumber() {
      tbody.querySelectorAll(".order-input").forEach(function (input, index) {
        input.value = index + 1;
      });
    }
    Array.prototype.forEach.call(tbody.rows, function (row) {
      row.draggable = true;
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        row.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", "");
      });
      row.addEventListener("dragend", function () {
        row.classList.remove("dragging");
        dragged = null;
      });
      row.addEventListener("dragover", function (event) {
        if (dragged && dragged.parentNode === tbody && dragged !== row) event.preventDefault();
      });
      row.addEventListener("drop", function (event) {
        if (!dragged || dragged.parentNode !== tbody || dragged === row) return;
        event.preventDefault();
        var rows = Array.prototype.slice.call(tbody.rows);
        tbody.insertBefore(dragged, rows.indexOf(dragged) > rows.indexOf(row) ? row : row.nextSibling);
        renumber();
      });
    });
  }

  function typeSections(form) {
    var select = form.querySelector("select[name='type']");
    if (!select) return;
    var sections = form.querySelectorAll("[data-for-types]");
    function update() {
      Array.prototype.forEach.call(sections, function (section) {
        var types = section.dataset.forTypes.split(",");
        section.hidden = types.indexOf(select.value) === -1;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("[data-sortable]").forEach(sortable);
  document.querySelectorAll(".choices-table tbody").forEach(sortableRows);
  var questionForm = document.getElementById("question-form");
  if (questionForm) typeSections(questionForm);
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
