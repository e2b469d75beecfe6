/* siemhub pages: small progressive enhancements. Every form still works without this file;
   with it, Test / Enable answer inline, type-dependent fields show and hide, the filter check
   and the payload preview follow the form as it is edited. No framework, no CDN. */
(function () {
  "use strict";

  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function csrfToken() {
    var meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function announce(text) {
    var region = $("#live-region");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 40);
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child == null) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fn, ms);
    };
  }

  function postForm(url, body) {
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  function failureText(status) {
    if (status === 403) return "You are not allowed to do this (read-only access), or the page expired: reload it.";
    if (status === 404) return "This integration no longer exists.";
    return "The server answered HTTP " + status + ".";
  }

  /* ---------- Test buttons: real test event, result inline, status refreshed ---------- */
  function showResult(box, success, message) {
    if (!box) return;
    box.className = "test-result " + (success ? "is-ok" : "is-error");
    box.replaceChildren(h("strong", { text: success ? "Success" : "Failed" }), h("span", { text: message }));
  }

  function updateStatus(pk, data) {
    $$('[data-status-for="' + pk + '"]').forEach(function (node) { node.innerHTML = data.status_html; });
    $$('.card[data-integration="' + pk + '"]').forEach(function (card) {
      card.classList.remove("is-success", "is-error", "is-not_yet_invoked");
      card.classList.add("is-" + data.status);
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form[data-test]");
    if (!form) return;
    ev.preventDefault();
    var button = $("button", form);
    var label = $("[data-label]", form);
    var box = document.getElementById(form.dataset.resultTarget);
    var original = label.textContent;
    var body = new FormData(form);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    label.textContent = "Sending…";
    if (box) { box.className = "test-result"; box.textContent = "Sending a test event…"; }
    postForm(form.action, body).then(function (res) {
      if (!res.data || typeof res.data.success !== "boolean") throw new Error(failureText(res.status));
      showResult(box, res.data.success, res.data.message);
      updateStatus(form.dataset.integration, res.data);
    }).catch(function (err) {
      showResult(box, false, err.message || "Network error: the test could not be sent.");
    }).then(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      label.textContent = original;
    });
  });

  /* ---------- Enable switch: applies at once ---------- */
  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches('form[data-toggle] input[type="checkbox"]')) return;
    var form = input.form;
    var wanted = input.checked;
    var body = new FormData(form);
    body.set("enabled", wanted ? "on" : "off");
    input.disabled = true;
    postForm(form.action, body).then(function (res) {
      if (!res.ok || !res.data) throw new Error(failureText(res.status));
      input.checked = res.data.enabled;
      var text = $("[data-toggle-text]", form);
      if (text) text.textContent = res.data.enabled ? "Enabled" : "Disabled";
      var card = form.closest(".card");
      if (card) card.classList.toggle("is-disabled", !res.data.enabled);
      announce(res.data.message);
    }).catch(function (err) {
      input.checked = !wanted;
      announce("Not changed: " + err.message);
      window.alert("Not changed: " + err.message);
    }).then(function () { input.disabled = false; input.focus(); });
  });

  /* ---------- Confirmations and "select all" ---------- */
  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest && ev.target.closest("[data-select-all]");
    if (!all) return;
    $$('input[name="' + all.dataset.selectAll + '"]', all.form || document).forEach(function (box) { box.checked = all.checked; });
  });

  /* ---------- Type-dependent fields ---------- */
  function controlValue(form, name) {
    var control = form.elements.namedItem(name);
    if (!control) return null;
    return control.value;
  }

  function applyVisibility(form) {
    $$("[data-show-when]", form).forEach(function (field) {
      var current = controlValue(form, field.dataset.showWhen);
      if (current === null) return;
      var show = field.dataset.showValues.split(" ").indexOf(current) !== -1;
      field.hidden = !show;
      // Hidden fields are not sent: a blank secret there must not count as "keep", and a
      // value for an unused option must not be saved.
      $$("input, select, textarea", field).forEach(function (input) { input.disabled = !show; });
    });
  }

  var editor = $("#integration-form");
  if (editor) {
    applyVisibility(editor);
    editor.addEventListener("change", function () { applyVisibility(editor); });

    var picker = $("[data-type-switch]", editor);
    if (picker) {
      picker.addEventListener("change", function () {
        var chosen = controlValue(editor, "integration_type");
        $$("[data-type-fields]", editor).forEach(function (fs) {
          var on = fs.dataset.typeFields === chosen;
          fs.hidden = !on;
          fs.disabled = !on;
        });
        applyVisibility(editor);
        var url = new URL(window.location.href);
        url.searchParams.set("type", chosen);
        window.history.replaceState(null, "", url);
        var legend = $('[data-type-fields="' + chosen + '"] legend', editor);
        if (legend) announce(legend.textContent + " shown");
      });
    }

    /* Presets (e.g. syslog QRadar / ArcSight) fill the matching fields. */
    editor.addEventListener("click", function (ev) {
      var button = ev.target.closest("[data-preset]");
      if (!button) return;
      var values = JSON.parse(button.dataset.preset);
      Object.keys(values).forEach(function (key) {
        var control = editor.elements.namedItem(button.dataset.prefix + "-" + key);
        if (!control) return;
        if (control.type === "checkbox") control.checked = !!values[key];
        else control.value = String(values[key]);
        var target = control.length && !control.tagName ? control[0] : control;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      });
      announce("Preset applied: " + button.textContent.trim());
    });
  }

  /* ---------- "Would this event match?" ---------- */
  var check = $("[data-filter-check]");
  if (check && editor) {
    var scope = $("[data-filters]", editor);
    var summary = $("[data-filter-summary]", check);
    var tbody = $("[data-filter-results]", check);
    var runCheck = function () {
      var params = new URLSearchParams();
      $$("input, select, textarea", scope).forEach(function (input) {
        if (!input.name || input.disabled) return;
        if ((input.type === "checkbox" || input.type === "radio") && !input.checked) return;
        params.append(input.name, input.value);
      });
      fetch(check.dataset.filterCheck + "?" + params.toString(), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (resp) {
        return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
      }).then(function (res) {
        if (!res.ok) {
          var errors = res.data.errors || {};
          summary.textContent = Object.keys(errors).map(function (k) { return k.replace("filters.", "") + ": " + errors[k]; }).join(" · ");
          return;
        }
        summary.textContent = res.data.summary;
        var rows = res.data.results.map(function (r) {
          var result = h("td", { "class": "nowrap" }, [
            h("span", { "class": "match " + (r.matches ? "match--yes" : "match--no"), text: r.matches ? "Sent" : "Skipped" })
          ]);
          var tags = r.tags.map(function (t) { return h("code", { "class": "chip chip--sm", text: t }); });
          return h("tr", { "class": r.matches ? "is-match" : "is-nomatch" }, [
            result,
            h("td", {}, [h("code", { text: r.type })]),
            h("td", {}, [h("span", { "class": "sev sev--" + r.severity, text: r.severity })]),
            h("td", {}, [r.asset || "—"].concat(tags.length ? [" "] : [], tags)),
            h("td", { "class": "mono small nowrap", title: r.timestamp, text: String(r.timestamp).slice(11, 19) }),
            h("td", { "class": "small muted", text: r.reason })
          ]);
        });
        if (!rows.length) rows = [h("tr", {}, [h("td", { colspan: "6", "class": "muted", text: "No events yet." })])];
        tbody.replaceChildren.apply(tbody, rows);
      }).catch(function () { summary.textContent = "The check could not run (network error)."; });
    };
    var later = debounce(runCheck, 350);
    scope.addEventListener("input", later);
    scope.addEventListener("change", later);
  }

  /* ---------- Payload preview ---------- */
  var preview = $("[data-preview]");
  if (preview && editor) {
    var out = $("[data-preview-output]", preview);
    var seq = 0;
    var renderRequests = function (data) {
      var blocks = data.requests.map(function (req, index) {
        var headers = h("dl", { "class": "preview__headers" }, []);
        req.headers.forEach(function (pair) {
          headers.appendChild(h("dt", { text: pair[0] + ":" }));
          headers.appendChild(h("dd", { text: pair[1] }));
        });
        var line = req.url
          ? h("div", { "class": "preview__line" }, [h("span", { "class": "preview__method", text: req.method }), req.url])
          : h("div", { "class": "preview__line", text: "Syslog message" + (data.requests.length > 1 ? " " + (index + 1) : "") });
        var meta = req.bytes + " bytes" + (req.note ? " · " + req.note : "");
        return h("div", { "class": "preview__req" }, [
          line, req.headers.length ? headers : null,
          h("pre", { "class": "preview__body", tabindex: "0", "aria-label": "Request body", text: req.body }),
          h("div", { "class": "preview__meta", text: meta })
        ]);
      });
      out.replaceChildren.apply(out, blocks.length ? blocks : [h("p", { "class": "muted", text: "Nothing would be sent." })]);
    };
    var runPreview = function () {
      var mine = ++seq;
      postForm(editor.dataset.previewUrl, new FormData(editor)).then(function (res) {
        if (mine !== seq) return;  // a newer preview is on its way
        if (res.ok && res.data) { renderRequests(res.data); return; }
        var errors = (res.data && res.data.errors) || {};
        var items = Object.keys(errors).map(function (k) {
          return h("li", { text: k.replace(/^config\./, "") + ": " + errors[k] });
        });
        out.replaceChildren(
          h("p", { "class": "muted", text: items.length ? "Complete these settings to see the payload:" : failureText(res.status) }),
          h("ul", { "class": "muted small" }, items)
        );
      }).catch(function () { out.replaceChildren(h("p", { "class": "muted", text: "Preview unavailable (network error)." })); });
    };
    var previewLater = debounce(runPreview, 500);
    editor.addEventListener("input", function (ev) { if (!ev.target.closest("[data-filters]")) previewLater(); });
    editor.addEventListener("change", function (ev) { if (!ev.target.closest("[data-filters]")) previewLater(); });
    $("[data-preview-refresh]", preview).addEventListener("click", runPreview);
    runPreview();
  }
})();
