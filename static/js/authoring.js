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
  var questionForm = document.getElementById("question-form");
  if (questionForm) typeSections(questionForm);
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
