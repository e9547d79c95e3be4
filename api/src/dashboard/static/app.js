// Tradeforge dashboard: the few things htmx does not do for us. No inline scripts anywhere (the
// Content-Security-Policy forbids them); everything is wired here from data attributes.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : null;

  // Calls to the JSON API with the session cookie; state changes carry the CSRF token.
  function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (text) {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { status: response.status, ok: response.ok, body: json, text: text };
      });
    });
  }

  // htmx's own requests (fragments) carry the token too.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (csrf) event.detail.headers["X-CSRF-Token"] = csrf;
  });

  // A burst of events becomes at most one refresh per `ms`, and the last event always gets
  // one (htmx's `throttle` drops it, which would leave a finished job shown as running).
  function throttled(fn, ms) {
    let timer = null;
    let again = false;
    function tick() {
      if (again) { again = false; fn(); timer = setTimeout(tick, ms); } else { timer = null; }
    }
    return function () {
      if (timer) { again = true; return; }
      fn();
      timer = setTimeout(tick, ms);
    };
  }

  // Elements with `hx-trigger="sse:NAME"` and `data-refresh="#target"`: an event re-fetches
  // the target (its own `hx-get`, triggered by "refresh").
  function wireRefresh(root) {
    root.querySelectorAll("[data-refresh]").forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      const name = (el.getAttribute("hx-trigger") || "").trim();
      const refresh = throttled(function () {
        const target = document.querySelector(el.dataset.refresh);
        if (target) htmx.trigger(target, "refresh");
      }, 400);
      // After a reconnect (a stream lives SSE_MAX_LIFETIME_S), whatever changed in between.
      let opened = false;
      el.addEventListener("htmx:sseOpen", function () { if (opened) refresh(); opened = true; });
      el.addEventListener(name, function (event) {
        const data = event.detail && event.detail.data;
        if (data && el.id === "job") {
          try { el.dataset.status = JSON.parse(data).status; } catch (e) { /* a heartbeat */ }
        }
        refresh();
      });
    });
  }

  // Cancel and Retry: POST to the JSON API, then show the job's new state.
  document.body.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const error = button.parentElement.querySelector(".action-error");
    button.disabled = true;
    api("POST", button.dataset.action).then(function (answer) {
      if (answer.ok) {
        const target = button.dataset.then;
        if (target) window.location.assign(target); else window.location.reload();
        return;
      }
      button.disabled = false;
      if (error) error.textContent = (answer.body && answer.body.detail) || answer.text;
    });
  });

  // Submit forms: the form becomes the JSON body of POST /jobs.
  function formBody(form) {
    const input = {};
    if (form.dataset.task) input.task = form.dataset.task;
    if (form.dataset.kind === "training") input.model = "nhits";
    let source = "provider";
    let path = "";
    form.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
      if (el.name === "source") { source = el.value; return; }
      if (el.name === "path") { path = el.value.trim(); return; }
      if (el.dataset.type === "bool") { if (!el.checked) input[el.name] = false; return; }
      const value = el.value.trim();
      if (value === "") return;
      if (el.dataset.type === "int") {
        const n = Number(value);
        input[el.name] = Number.isInteger(n) ? n : value; // the API names a bad number
      } else {
        input[el.name] = el.name === "symbol" ? value.toUpperCase() : value;
      }
    });
    if (source === "csv") input.data = { source: "csv", path: path };
    return { kind: form.dataset.kind, input: input };
  }

  function showProblem(form, problem, text) {
    const detail = (problem && problem.detail) || text || "the request failed";
    const slot = problem && problem.field
      ? form.querySelector('.field-error[data-field="' + CSS.escape(problem.field) + '"]')
      : null;
    (slot || form.querySelector(".form-error")).textContent = detail;
    const field = slot && slot.previousElementSibling;
    if (field && field.focus) field.focus();
  }

  document.querySelectorAll("form.job-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.querySelectorAll(".field-error, .form-error").forEach(function (el) { el.textContent = ""; });
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      api("POST", "/jobs", formBody(form)).then(function (answer) {
        button.disabled = false;
        if (answer.ok && answer.body && answer.body.id) {
          window.location.assign("/ui/jobs/" + answer.body.id);
        } else {
          showProblem(form, answer.body, answer.text);
        }
      }, function (e) {
        button.disabled = false;
        showProblem(form, null, "the API could not be reached: " + e);
      });
    });
  });

  wireRefresh(document);
  document.body.addEventListener("htmx:afterSwap", function (event) { wireRefresh(event.target); });
})();
