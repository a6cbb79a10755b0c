/* The hosted form page: as the visitor answers, ask the server which fields are shown and
   required now (POST …/state: the engine's one implementation of visible_when/required_when)
   and update the page; in a client's iframe, tell the parent page our height. No
   dependencies, no build step. Without JavaScript the page still works: every field shows
   and the server decides. */
(function () {
  "use strict";

  var DELAY_MS = 250;
  var HEIGHT_MESSAGE = "tidepool:form-height";
  var SEPARATORS = /[,，、;；]/;
  var embedded = window.parent !== window;

  function postHeight() {
    if (!embedded) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage(
      { type: HEIGHT_MESSAGE, height: height, page: document.body.getAttribute("data-page") },
      "*" // only a height: nothing private, and the embedding site is not known here
    );
  }

  function wrapperOf(element) {
    return element.closest ? element.closest("[data-field]") : null;
  }

  /* The answers so far, as the engine takes them: lists for checkbox groups, comma text
     split for tags; empty answers left out. */
  function values(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var wrapper = wrapperOf(el);
      if (!wrapper || !el.name || el.disabled) return;
      var kind = wrapper.getAttribute("data-kind");
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      var value = String(el.value || "").trim();
      if (kind === "checkboxes") {
        (data[el.name] = data[el.name] || []).push(value);
      } else if (value) {
        data[el.name] = wrapper.hasAttribute("data-split")
          ? value.split(SEPARATORS).map(function (s) { return s.trim(); }).filter(Boolean)
          : value;
      }
    });
    return data;
  }

  function setRequired(wrapper, required) {
    var marker = wrapper.querySelector(".req");
    if (marker) marker.hidden = !required;
    var kind = wrapper.getAttribute("data-kind");
    if (kind === "checkboxes") return; // `required` on a checkbox would mean "tick every one"
    wrapper.querySelectorAll("input, select, textarea").forEach(function (el) {
      el.required = required;
    });
  }

  function setVisible(wrapper, visible) {
    wrapper.hidden = !visible;
    wrapper.querySelectorAll("input, select, textarea").forEach(function (el) {
      el.disabled = !visible; // not sent, not checked by the browser
    });
  }

  function apply(form, state) {
    if (!state || !Array.isArray(state.visible) || !Array.isArray(state.required)) return;
    form.querySelectorAll("[data-field]").forEach(function (wrapper) {
      var name = wrapper.getAttribute("data-field");
      setVisible(wrapper, state.visible.indexOf(name) >= 0);
      setRequired(wrapper, state.required.indexOf(name) >= 0);
    });
    postHeight();
  }

  function watch(form) {
    var url = form.getAttribute("data-state-url");
    var timer = null;
    var asked = 0;
    function ask() {
      var mine = ++asked;
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(values(form)),
        credentials: "same-origin",
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) { if (mine === asked) apply(form, state); })
        .catch(function () { /* offline or refused: the server checks on submit anyway */ });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  /* One click, one submission (a double tap still makes one record: the server's duplicate
     window); the button comes back when the visitor returns with the Back button. */
  function guardSubmit(form) {
    var button = form.querySelector("button[type=submit]");
    if (!button) return;
    var label = button.textContent;
    form.addEventListener("submit", function () {
      window.setTimeout(function () { // after the browser has taken the form's values
        button.disabled = true;
        button.textContent = button.getAttribute("data-sending") || label;
      }, 0);
    });
    window.addEventListener("pageshow", function () {
      button.disabled = false;
      button.textContent = label;
    });
  }

  function start() {
    if (embedded) document.documentElement.className += " embedded";
    var form = document.querySelector("form[data-state-url]");
    if (form) {
      form.querySelectorAll("[data-field][hidden]").forEach(function (wrapper) {
        setVisible(wrapper, false);
      });
      watch(form);
      guardSubmit(form);
    }
    var problems = document.getElementById("problems");
    if (problems) problems.focus();
    postHeight();
    if (embedded && window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
    window.addEventListener("resize", postHeight);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
