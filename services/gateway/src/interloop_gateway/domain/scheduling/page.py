"""The candidate's self-scheduling page: server-rendered HTML plus a little vanilla JavaScript that calls
the link endpoints. Slots are grouped by day in the candidate's zone (detected with Intl.DateTimeFormat,
changeable); no external assets, so it works under a strict Content-Security-Policy."""

# ruff: noqa: E501 - the page is one HTML/CSS/JS document, kept readable rather than wrapped
from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Choose your interview time</title>
<style nonce="__NONCE__">
  :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; background: #fff; }
  body { max-width: 46rem; margin: 0 auto; padding: 1rem; line-height: 1.5; }
  h1 { font-size: 1.5rem; }
  fieldset { border: 1px solid #bbb; border-radius: .5rem; margin: 0 0 1rem; padding: .5rem 1rem 1rem; }
  legend { font-weight: 600; padding: 0 .25rem; }
  .slots { display: flex; flex-wrap: wrap; gap: .5rem; }
  button { font: inherit; padding: .5rem .9rem; border-radius: .4rem; border: 1px solid #0b5cad;
           background: #fff; color: #0b5cad; cursor: pointer; min-height: 2.75rem; }
  button:hover, button[aria-pressed="true"] { background: #0b5cad; color: #fff; }
  button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
  button.primary { background: #0b5cad; color: #fff; }
  #status { min-height: 1.5rem; font-weight: 600; }
  #status.error { color: #a30000; }
  .panel { border: 2px solid #0b5cad; border-radius: .5rem; padding: 1rem; margin: 1rem 0; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  @media (prefers-color-scheme: dark) {
    :root { color: #eee; background: #121212; }
    button { background: #121212; color: #8cc4ff; border-color: #8cc4ff; }
    button:hover, button[aria-pressed="true"], button.primary { background: #8cc4ff; color: #121212; }
    #status.error { color: #ff8a8a; }
  }
</style>
</head>
<body>
<main id="app" data-token="__TOKEN__">
  <h1 id="title">Choose your interview time</h1>
  <p id="intro">Loading the times your interviewers are free&hellip;</p>
  <form id="tz-form">
    <label for="tz">Times are shown in time zone</label>
    <input id="tz" name="tz" autocomplete="off" spellcheck="false" size="28">
    <button type="submit">Update</button>
  </form>
  <div id="status" role="status" aria-live="polite"></div>
  <section id="choice" class="panel" hidden aria-labelledby="choice-title">
    <h2 id="choice-title" tabindex="-1">Confirm this time</h2>
    <p id="choice-text"></p>
    <button type="button" id="confirm" class="primary">Confirm interview</button>
    <button type="button" id="change">Choose another time</button>
  </section>
  <section id="done" class="panel" hidden aria-labelledby="done-title">
    <h2 id="done-title" tabindex="-1">You are booked</h2>
    <p id="done-text"></p>
    <p><a id="ics" download="interview.ics" href="#">Add to your calendar (.ics)</a></p>
  </section>
  <section id="days" aria-label="Available times"></section>
</main>
<script nonce="__NONCE__">
(function () {
  "use strict";
  var app = document.getElementById("app");
  var base = "/v1/scheduling-links/" + encodeURIComponent(app.dataset.token);
  var tzInput = document.getElementById("tz");
  var statusEl = document.getElementById("status");
  var daysEl = document.getElementById("days");
  var choice = document.getElementById("choice");
  var held = null;
  var detected = "UTC";
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* old browser */ }
  tzInput.value = detected;

  function say(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "";
  }
  function tz() { return tzInput.value.trim() || "UTC"; }
  function fmtDay(iso) {
    return new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric", timeZone: tz() })
      .format(new Date(iso));
  }
  function fmtTime(iso) {
    return new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZone: tz() })
      .format(new Date(iso));
  }
  function api(method, path, body) {
    var url = base + path + (path.indexOf("?") < 0 ? "?" : "&") + "tz=" + encodeURIComponent(tz());
    var init = { method: method, headers: { "Accept": "application/json" } };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        var data = t ? JSON.parse(t) : {};
        if (!r.ok) { var err = new Error(data.detail || r.statusText); err.status = r.status; err.data = data; throw err; }
        return data;
      });
    });
  }
  function renderSlots(slots) {
    daysEl.textContent = "";
    if (!slots.length) { say("There are no open times right now. Please check back later.", false); return; }
    var groups = {};
    var order = [];
    slots.forEach(function (s) {
      if (!groups[s.local_date]) { groups[s.local_date] = []; order.push(s.local_date); }
      groups[s.local_date].push(s);
    });
    order.forEach(function (day) {
      var fs = document.createElement("fieldset");
      var lg = document.createElement("legend");
      lg.textContent = fmtDay(groups[day][0].start);
      fs.appendChild(lg);
      var list = document.createElement("div");
      list.className = "slots";
      groups[day].forEach(function (s) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = fmtTime(s.start);
        b.setAttribute("aria-label", fmtDay(s.start) + ", " + fmtTime(s.start) + " to " + fmtTime(s.end));
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () { pick(s, b); });
        list.appendChild(b);
      });
      fs.appendChild(list);
      daysEl.appendChild(fs);
    });
  }
  function renderOptions(options) {
    // A loop link: each option is every session of the loop, booked together.
    daysEl.textContent = "";
    if (!options.length) { say("There are no open times right now. Please check back later.", false); return; }
    options.forEach(function (o, n) {
      var fs = document.createElement("fieldset");
      var lg = document.createElement("legend");
      lg.textContent = "Option " + (n + 1) + ": " + fmtDay(o.sessions[0].start);
      fs.appendChild(lg);
      var list = document.createElement("ul");
      o.sessions.forEach(function (x) {
        var li = document.createElement("li");
        li.textContent = fmtTime(x.start) + " \u2013 " + fmtTime(x.end) +
          (o.days > 1 ? " (" + fmtDay(x.start) + ")" : "");
        list.appendChild(li);
      });
      fs.appendChild(list);
      var b = document.createElement("button");
      b.type = "button";
      b.className = "primary";
      b.textContent = "Book these times";
      b.addEventListener("click", function () { bookLoop(o); });
      fs.appendChild(b);
      daysEl.appendChild(fs);
    });
  }
  function bookLoop(option) {
    say("Booking\u2026", false);
    var sessions = option.sessions.map(function (x) {
      return { session_id: x.session_id, start: x.start, end: x.end, interviewer_ids: x.interviewer_ids };
    });
    api("POST", "/confirm", { sessions: sessions }).then(function (r) {
      showDone(r.booking, r.invite_ics, r.bookings);
    }).catch(fail);
  }
  function load() {
    say("Loading\u2026", false);
    return api("GET", "/slots").then(function (d) {
      var loop = d.loop_options && d.loop_options.length;
      document.getElementById("intro").textContent =
        (d.candidate_name ? "Hello " + d.candidate_name + ". " : "") +
        (loop ? "Pick the times for your " + (d.round || "interviews") + ": every session is booked together."
              : "Pick a " + d.duration_minutes + "-minute time for your " + (d.round || "interview") + ".");
      if (d.status === "booked" && d.booking) { showDone(d.booking, null); return; }
      say("", false);
      if (loop) { renderOptions(d.loop_options); } else { renderSlots(d.slots); }
    }).catch(fail);
  }
  function fail(err) {
    if (err.status === 409 && err.data && err.data.session_id !== undefined) {
      say("Sorry, one of those times was just taken. Here are other options.", true);
      renderOptions(err.data.alternatives || []);
      return;
    }
    if (err.status === 409 && err.data && err.data.alternatives) {
      say("Sorry, that time was just taken. Here are other open times.", true);
      renderSlots(err.data.alternatives);
      choice.hidden = true;
      return;
    }
    if (err.status === 410) { say("This scheduling link has expired. Please ask for a new one.", true); return; }
    if (err.status === 404) { say("This scheduling link is not valid.", true); return; }
    say("Something went wrong: " + err.message, true);
  }
  function pick(slot, button) {
    say("Holding " + fmtTime(slot.start) + " for you\u2026", false);
    api("POST", "/holds", { start: slot.start }).then(function (h) {
      held = h;
      Array.prototype.forEach.call(daysEl.querySelectorAll("button"), function (x) {
        x.setAttribute("aria-pressed", x === button ? "true" : "false");
      });
      document.getElementById("choice-text").textContent =
        fmtDay(h.start) + ", " + fmtTime(h.start) + " \u2013 " + fmtTime(h.end) + " (" + tz() + "). " +
        "We hold this time for you until " + fmtTime(h.expires_at) + ".";
      choice.hidden = false;
      say("", false);
      document.getElementById("choice-title").focus();
    }).catch(fail);
  }
  function showDone(booking, ics, all) {
    choice.hidden = true;
    daysEl.textContent = "";
    document.getElementById("tz-form").hidden = true;
    var every = all && all.length ? all : [booking];
    document.getElementById("done-text").textContent = every.map(function (b) {
      return fmtDay(b.start) + ", " + fmtTime(b.start) + " \u2013 " + fmtTime(b.end);
    }).join("; ") + " (" + tz() + ").";
    var link = document.getElementById("ics");
    if (ics) { link.href = URL.createObjectURL(new Blob([ics], { type: "text/calendar" })); }
    else { link.hidden = true; }
    document.getElementById("done").hidden = false;
    say("Your interview is booked.", false);
    document.getElementById("done-title").focus();
  }
  document.getElementById("confirm").addEventListener("click", function () {
    if (!held) { return; }
    say("Booking\u2026", false);
    api("POST", "/confirm", { hold_id: held.hold_id }).then(function (r) {
      showDone(r.booking, r.invite_ics);
    }).catch(fail);
  });
  document.getElementById("change").addEventListener("click", function () {
    if (held) { api("DELETE", "/holds/" + encodeURIComponent(held.hold_id)).catch(function () {}); }
    held = null;
    choice.hidden = true;
    load();
  });
  document.getElementById("tz-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
})();
</script>
<noscript><p>This page needs JavaScript to show the open times.</p></noscript>
</body>
</html>
"""


def render(token: str, nonce: str) -> str:
    # The token is URL-safe base64 + '.', but escape anyway: it comes from the URL.
    return _PAGE.replace("__TOKEN__", html.escape(token, quote=True)).replace("__NONCE__", nonce)
