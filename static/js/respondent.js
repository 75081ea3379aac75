// Respondent pages work without this file. With it, follow-up questions appear and disappear at
// once, from the same rules the server applies (questionnaires/engine/conditions.py), and the
// error summary takes focus so screen-reader and keyboard users land on it.
(function () {
  "use strict";

  function isAnswered(value) {
    if (value === null || value === undefined) return false;
    if (typeof value === "string" || Array.isArray(value)) return value.length > 0;
    if (typeof value === "object") return Object.keys(value).length > 0;
    return true;
  }

  // Only plain decimals, as the server reads them: no "0x1A", no "Infinity".
  var DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

  function toNumber(value) {
    if (typeof value === "boolean" || value === null || value === undefined) return null;
    if (typeof value === "number") return isFinite(value) ? value : null;
    var text = String(value).replace(/\s/g, "").replace(",", ".");
    return DECIMAL.test(text) ? Number(text) : null;
  }

  function compare(op, answer, expected) {
    if (op === "answered") return isAnswered(answer);
    if (op === "not_answered") return !isAnswered(answer);
    if (!isAnswered(answer)) return false;
    if (op === "equals" || op === "not_equals") {
      var same;
      if (typeof expected === "number") {
        var left = toNumber(answer);
        same = left !== null && left === expected;
      } else {
        same = answer === expected;
      }
      return op === "equals" ? same : !same;
    }
    if (op === "one_of") return Array.isArray(expected) && expected.indexOf(answer) !== -1;
    if (op === "includes") return Array.isArray(answer) && answer.indexOf(expected) !== -1;
    var a = toNumber(answer), b = toNumber(expected);
    if (a === null || b === null) return false;
    if (op === "gt") return a > b;
    if (op === "gte") return a >= b;
    if (op === "lt") return a < b;
    if (op === "lte") return a <= b;
    return false;
  }

  function evaluate(condition, answers) {
    if (!condition || Object.keys(condition).length === 0) return true;
    if (condition.all) return condition.all.every(function (part) { return evaluate(part, answers); });
    if (condition.any) return condition.any.some(function (part) { return evaluate(part, answers); });
    return compare(condition.op, answers[condition.question], condition.value);
  }

  function valueOf(form, code, type) {
    if (type === "ranking" || type === "matrix") {
      var rows = {}, items = 0, filled = 0;
      form.querySelectorAll('[name^="' + code + '."]').forEach(function (input) {
        if (input.name === code + ".other") return;
        if (input.tagName === "SELECT") items += 1;
        if ((input.type === "radio" && input.checked) || (input.tagName === "SELECT" && input.value)) {
          rows[input.name.slice(code.length + 1)] = input.value;
          filled += 1;
        }
      });
      // The server keeps a ranking only when every item has a rank.
      if (type === "ranking" && filled < items) return {};
      return rows;
    }
    var inputs = form.querySelectorAll('[name="' + code + '"]');
    if (type === "multiple_choice") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    for (var k = 0; k < inputs.length; k++) {
      var input = inputs[k];
      if (input.type === "radio") { if (input.checked) return input.value; continue; }
      return input.value.trim();
    }
    return null;
  }

  function applyRules(form, rules) {
    var answers = Object.assign({}, rules.answers);
    var shown = [];
    rules.order.forEach(function (code) {
      var wrapper = document.getElementById("q-" + code);
      var visible = evaluate(rules.conditions[code], answers);
      if (wrapper) wrapper.hidden = !visible;
      if (!visible) return;
      shown.push(code);
      var value = valueOf(form, code, rules.types[code]);
      if (isAnswered(value)) answers[code] = value;
    });
    var field = document.getElementById("id__shown");
    if (field) field.value = shown.join(",");
  }

  // A saved page answers with the page that comes next, under the address the form was posted
  // to. Replacing the history entry with the page's own address, even an unchanged one, makes a
  // reload or the browser's Back button fetch the page instead of offering to send a form again.
  function showOwnAddress() {
    var own = document.querySelector('meta[name="page-url"]');
    if (own && window.history.replaceState) window.history.replaceState(null, "", own.content);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showOwnAddress();
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var form = document.getElementById("domain-form");
    var data = document.getElementById("page-rules");
    if (!form || !data) return;
    var rules = JSON.parse(data.textContent);
    var update = function () { applyRules(form, rules); };
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  });
})();
