/* plume widget v1: renders every <div data-plume-case="ID" [data-plume-lang="LL"]> of the
   page as a case with its live total and its action form. Plain JavaScript, no
   dependencies; intake fills in CONFIG (counter address, message catalogues, countries). */
(function () {
  "use strict";
  var CONFIG = /*PLUME_CONFIG*/ {};
  var script = document.currentScript || document.querySelector('script[src*="/widget/v1.js"]');
  var INTAKE = script ? new URL(script.src, location.href).origin : "";
  var POLL_MS = 5000, MAX_TRIES = 6, MAX_WAIT_S = 60, uid = 0;

  function primary(tag) { return (tag || "").split("-")[0].toLowerCase(); }

  // The page's language: the element's, else the document's (empty: the browser's).
  function pageLang(el) {
    return primary(el.getAttribute("data-plume-lang") || document.documentElement.lang);
  }

  // The widget's own texts: the first wanted language with a catalogue, else English.
  function pickLang(el) {
    var wanted = [pageLang(el)].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      if (CONFIG.messages[primary(wanted[i])]) return primary(wanted[i]);
    }
    return "en";
  }

  function h(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (kid) { if (kid) node.appendChild(kid); });
    return node;
  }

  // crypto.randomUUID exists only on https pages (and localhost); a v4 UUID otherwise.
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), x = "";
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) x += (b[i] + 256).toString(16).slice(1);
    return x.slice(0, 8) + "-" + x.slice(8, 12) + "-" + x.slice(12, 16) + "-" + x.slice(16, 20) + "-" + x.slice(20);
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function style() {
    if (document.getElementById("plume-style")) return;
    var css = ".plume-w{font:16px/1.45 system-ui,sans-serif;color:#1a1a1a;max-width:34em;" +
      "border:2px solid #1a1a1a;border-radius:6px;padding:1em 1.25em;background:#fff}" +
      ".plume-w h2{margin:0 0 .3em;font-size:1.4em}.plume-w h3{margin:1em 0 .5em;font-size:1.1em}" +
      ".plume-w p{margin:.3em 0}.plume-total{font-size:1.25em;font-weight:700}" +
      ".plume-bar{height:.8em;background:#e4e4e4;border-radius:.4em;overflow:hidden;margin:.3em 0}" +
      ".plume-bar>div{height:100%;width:0;background:#ffd500;border-right:2px solid #1a1a1a}" +
      ".plume-f{margin:.8em 0}.plume-f label{display:block;font-weight:600}" +
      ".plume-f input[type=text],.plume-f input[type=email],.plume-f select,.plume-f textarea" +
      "{box-sizing:border-box;width:100%;font:inherit;padding:.4em;border:1px solid #555;border-radius:4px}" +
      ".plume-c label{display:flex;gap:.5em;align-items:flex-start;font-weight:400;margin:.3em 0}" +
      ".plume-w [aria-invalid=true]{border:2px solid #b00020}" +
      ".plume-err{color:#b00020;font-weight:600;display:block;min-height:0}" +
      ".plume-w button{font:inherit;font-weight:700;padding:.55em 1.6em;border:0;border-radius:4px;" +
      "background:#ffd500;color:#000;cursor:pointer}.plume-w button:disabled{opacity:.6}" +
      ".plume-w :focus-visible{outline:3px solid #0055cc;outline-offset:2px}";
    document.head.appendChild(h("style", { id: "plume-style", text: css }));
  }

  function Widget(el) {
    this.el = el;
    this.caseId = el.getAttribute("data-plume-case");
    this.lang = pickLang(el);
    this.t = CONFIG.messages[this.lang];
    this.counter = el.getAttribute("data-plume-counter") || CONFIG.counter;
    this.id = "plume-" + (++uid);
    this.total = null;
    el.textContent = this.t.loading;
    style();
    this.load();
  }

  Widget.prototype.load = function () {
    var self = this;
    // Case texts in any language the campaign file gives: the page's, else the browser's
    // (its Accept-Language), whether or not the widget has a catalogue for it.
    var lang = pageLang(this.el);
    fetch(INTAKE + "/v1/cases" + (lang ? "?lang=" + encodeURIComponent(lang) : ""))
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) {
        var found = body.cases.filter(function (c) { return c.id === self.caseId; })[0];
        if (!found) { self.el.textContent = self.t.unknown_case; return; }
        self.render(found);
      })
      .catch(function () { self.el.textContent = self.t.unavailable; });
  };

  Widget.prototype.render = function (c) {
    var t = this.t, text = c.text || { name: c.name, summary: "", language: this.lang };
    this.case = c;
    this.totalNode = h("p", { "class": "plume-total", "aria-live": "polite", "aria-atomic": "true" });
    this.root = h("section", { "class": "plume-w", lang: this.lang,
      "aria-labelledby": this.id + "-title" }, [
      h("h2", { id: this.id + "-title", lang: text.language, text: text.name }),
      text.summary ? h("p", { lang: text.language, text: text.summary }) : null,
      this.totalNode
    ]);
    if (c.goal) {
      this.fill = h("div");
      this.bar = h("div", { "class": "plume-bar", role: "progressbar", "aria-label": t.progress_label,
        "aria-valuemin": "0", "aria-valuemax": String(c.goal), "aria-valuenow": "0" }, [this.fill]);
      this.goalNode = h("p", { "class": "plume-goal" });
      this.root.appendChild(this.bar);
      this.root.appendChild(this.goalNode);
    }
    if (c.status === "closed") this.root.appendChild(h("p", { text: t.closed }));
    else this.root.appendChild(this.form(text.name));
    this.el.textContent = "";
    this.el.appendChild(this.root);
    this.live();
  };

  Widget.prototype.field = function (name, label, control) {
    var err = h("span", { "class": "plume-err", id: this.id + "-" + name + "-err", "aria-live": "polite" });
    control.id = this.id + "-" + name;
    control.name = name;
    control.setAttribute("aria-describedby", err.id);
    this.errors[name] = { control: control, node: err };
    return h("div", { "class": "plume-f" }, [h("label", { "for": control.id, text: label }), control, err]);
  };

  Widget.prototype.form = function (caseName) {
    var t = this.t, self = this;
    this.errors = {};
    var country = h("select", { autocomplete: "country" }, [h("option", { value: "", text: t.choose_country })]);
    var names = window.Intl && Intl.DisplayNames ? new Intl.DisplayNames([this.lang], { type: "region" }) : null;
    CONFIG.countries.map(function (code) { return [names ? names.of(code) : code, code]; })
      .sort(function (a, b) { return a[0].localeCompare(b[0], self.lang); })
      .forEach(function (p) { country.appendChild(h("option", { value: p[1], text: p[0] })); });
    this.share = h("input", { type: "checkbox", id: this.id + "-share" });
    this.contact = h("input", { type: "checkbox", id: this.id + "-contact" });
    this.status = h("p", { "class": "plume-err", role: "status", "aria-live": "polite" });
    this.button = h("button", { type: "submit", text: t.submit });
    var form = h("form", { novalidate: "", "aria-labelledby": this.id + "-form" }, [
      h("h3", { id: this.id + "-form", text: fill(t.form_title, { name: caseName }) }),
      this.field("supporter.name", t.name, h("input", { type: "text", autocomplete: "name", required: "" })),
      this.field("supporter.email", t.email, h("input", { type: "email", autocomplete: "email", required: "" })),
      this.field("supporter.country", t.country, country),
      this.case.solidarity_messages ? this.field("message", t.message, h("textarea", { rows: "3" })) : null,
      h("div", { "class": "plume-f plume-c" }, [
        h("label", {}, [this.share, this.consentText()]),
        h("label", {}, [this.contact, document.createTextNode(t.consent_contact)])
      ]),
      this.status,
      this.button
    ]);
    form.addEventListener("submit", function (e) { e.preventDefault(); self.submit(); });
    this.formNode = form;
    return form;
  };

  // The campaign's consent text for sharing the name, in its language, else the catalogue's.
  Widget.prototype.consentText = function () {
    var c = this.case.consent;
    return c ? h("span", { lang: c.language, text: c.text }) : document.createTextNode(this.t.consent_share);
  };

  Widget.prototype.value = function (name) {
    var f = this.errors[name];
    return f ? f.control.value.trim() : "";
  };

  Widget.prototype.actions = function () {
    var supporter = { name: this.value("supporter.name"), email: this.value("supporter.email") };
    if (this.value("supporter.country")) supporter.country = this.value("supporter.country");
    var consent = { share_name_with_target: this.share.checked, contact: this.contact.checked };
    if (this.case.consent) consent.text_id = this.case.consent.text_id; // proof of what was shown
    // One id per action, kept across retries so that a retried action counts once.
    this.ids = this.ids || [uuid(), uuid()];
    var list = [{ action_id: this.ids[0], case_id: this.caseId, type: "signature",
      supporter: supporter, consent: consent }];
    var message = this.value("message");
    if (message) list.push({ action_id: this.ids[1], case_id: this.caseId,
      type: "solidarity_message", supporter: supporter, consent: consent, message: message });
    return list;
  };

  Widget.prototype.submit = function () {
    var self = this;
    this.clearErrors();
    this.button.disabled = true;
    this.button.textContent = this.t.sending;
    var list = this.actions(), i = 0;
    (function next() {
      if (i === list.length) return self.thank();
      self.send(list[i], 1).then(function (ok) { if (ok) { i++; next(); } else self.ready(); });
    })();
  };

  Widget.prototype.ready = function () {
    this.button.disabled = false;
    this.button.textContent = this.t.submit;
  };

  // Resolves true once accepted; false when the supporter must act (errors shown).
  Widget.prototype.send = function (action, attempt) {
    var self = this;
    return fetch(INTAKE + "/v1/actions", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(action)
    }).then(function (r) {
      if (r.status === 202) return true;
      if (r.status === 429 || r.status === 503) {
        return self.later(action, attempt, self.t.busy, Number(r.headers.get("Retry-After")));
      }
      return r.json().catch(function () { return {}; }).then(function (problem) {
        self.ids = null; // refused outright: nothing was accepted under these ids
        self.showErrors(problem);
        return false;
      });
    }, function () { return self.later(action, attempt, self.t.offline, 0); });
  };

  Widget.prototype.later = function (action, attempt, text, retryAfter) {
    var self = this;
    if (attempt >= MAX_TRIES) { this.status.textContent = this.t.gave_up; return Promise.resolve(false); }
    var wait = Math.min(retryAfter > 0 ? retryAfter : Math.pow(2, attempt), MAX_WAIT_S);
    this.status.textContent = fill(text, { s: wait });
    return new Promise(function (done) { setTimeout(done, wait * 1000); })
      .then(function () { self.status.textContent = ""; return self.send(action, attempt + 1); });
  };

  Widget.prototype.clearErrors = function () {
    var fields = this.errors;
    Object.keys(fields).forEach(function (k) {
      fields[k].node.textContent = "";
      fields[k].control.removeAttribute("aria-invalid");
    });
    this.status.textContent = "";
  };

  Widget.prototype.showErrors = function (problem) {
    var t = this.t, fields = this.errors, first = null;
    (problem.errors || []).forEach(function (e) {
      var name = e.field || "";
      var target = fields[name] || (name === "supporter" ? fields["supporter.name"] : null);
      var text = t["code." + e.code] || t["field." + name] || e.message;
      if (!target) return;
      target.node.textContent = text;
      target.control.setAttribute("aria-invalid", "true");
      first = first || target.control;
    });
    this.status.textContent = first ? t.check_fields : (problem.status === 409 ? t.closed : t.failed);
    if (first) first.focus();
  };

  Widget.prototype.thank = function () {
    var title = h("h3", { tabindex: "-1", text: fill(this.t.thanks_title, { name: this.value("supporter.name") }) });
    var box = h("div", { "class": "plume-thanks", role: "status" }, [title, h("p", { text: this.t.thanks_body })]);
    this.root.replaceChild(box, this.formNode);
    title.focus();
  };

  Widget.prototype.show = function (totals) {
    var fmt = new Intl.NumberFormat(this.lang), n = totals.total;
    if (n === this.total) return;
    this.total = n;
    var plural = new Intl.PluralRules(this.lang).select(n) === "one" ? "total_one" : "total_other";
    this.totalNode.textContent = fill(this.t[plural], { n: fmt.format(n) });
    if (this.bar) {
      var goal = this.case.goal, share = Math.min(n / goal, 1);
      var percent = new Intl.NumberFormat(this.lang, { style: "percent", maximumFractionDigits: 1 });
      this.bar.setAttribute("aria-valuenow", String(Math.min(n, goal)));
      var label = fill(this.t.goal, { p: percent.format(n / goal), goal: fmt.format(goal) });
      this.bar.setAttribute("aria-valuetext", label);
      this.fill.style.width = (100 * share) + "%";
      this.goalNode.textContent = label;
    }
  };

  // Live totals from the case's stream; polling where streams fail or are missing.
  Widget.prototype.live = function () {
    var self = this, url = this.counter + "/v1/cases/" + encodeURIComponent(this.caseId) + "/totals";
    if (!window.EventSource) return this.poll(url);
    var source = new EventSource(url + "/stream"), heard = false;
    source.addEventListener("totals", function (e) { heard = true; self.show(JSON.parse(e.data)); });
    source.onerror = function () {
      if (heard && source.readyState !== EventSource.CLOSED) return; // reconnecting by itself
      source.close();
      self.poll(url);
    };
  };

  Widget.prototype.poll = function (url) {
    var self = this;
    function tick() {
      fetch(url).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (totals) { if (totals) self.show(totals); }, function () {})
        .then(function () { setTimeout(tick, POLL_MS); });
    }
    tick();
  };

  function start() {
    var nodes = document.querySelectorAll("[data-plume-case]");
    for (var i = 0; i < nodes.length; i++) {
      if (!nodes[i].plumeWidget) nodes[i].plumeWidget = new Widget(nodes[i]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
