"""The candidate page on a loop link: it lists the loop options, books the chosen one with every session in
one confirmation, and shows every booked session; a panel link still shows single slots. The page's own
script runs in node against a minimal DOM (skipped where node is not installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from interloop_gateway.domain.scheduling import page

NODE = shutil.which("node")
OPTION = {
    "objectives": ["earliest"],
    "status": "OPTIMAL",
    "days": 1,
    "sessions": [
        {
            "session_id": "intro",
            "start": "2027-01-04T09:00:00Z",
            "end": "2027-01-04T10:00:00Z",
            "local_start": "",
            "interviewer_ids": ["amy"],
            "shadows": [],
        },
        {
            "session_id": "coding",
            "start": "2027-01-04T10:00:00Z",
            "end": "2027-01-04T11:00:00Z",
            "local_start": "",
            "interviewer_ids": ["bo"],
            "shadows": [],
        },
    ],
}
HARNESS = """
function el(tag) {
  return { tag, children: [], hidden: false, dataset: { token: "tok" }, value: "", textContent: "",
    className: "", handlers: {}, attrs: {}, appendChild(c) { this.children.push(c); },
    addEventListener(k, f) { this.handlers[k] = f; }, setAttribute(k, v) { this.attrs[k] = v; },
    focus() {}, querySelectorAll() { return []; } };
}
const ids = {};
global.document = { getElementById(id) { return ids[id] || (ids[id] = el(id)); }, createElement: el };
global.URL = { createObjectURL() { return "blob:x"; } };
global.Blob = function () {};
const calls = [];
global.fetch = function (url, init) {
  calls.push({ method: init.method, body: init.body ? JSON.parse(init.body) : null });
  const body = init.method === "GET" ? SLOTS : CONFIRMED;
  return Promise.resolve({ ok: true, text: () => Promise.resolve(JSON.stringify(body)) });
};
SCRIPT
setTimeout(() => {
  const first = ids.days.children[0];
  const out = { intro: ids.intro.textContent, legend: first.children[0].textContent };
  const clickable = (n) => n.handlers.click ? n : n.children.map(clickable).find(Boolean);
  clickable(first).handlers.click();  // the first option's "Book these times", or the first slot
  setTimeout(() => {
    out.calls = calls;
    out.done = document.getElementById("done-text").textContent;
    out.status = document.getElementById("status").textContent;
    console.log(JSON.stringify(out));
  }, 20);
}, 20);
"""


def run(slots: dict, confirmed: dict, tmp_path: Path) -> dict:
    if NODE is None:
        pytest.skip("node is not installed")
    script = re.search(r"<script nonce=\"n\">(.*)</script>", page.render("tok", "n"), re.S)
    assert script is not None
    code = (
        HARNESS.replace("SCRIPT", script.group(1))
        .replace("SLOTS", json.dumps(slots))
        .replace("CONFIRMED", json.dumps(confirmed))
    )
    path = tmp_path / "page.js"
    path.write_text(code)
    done = subprocess.run([NODE, str(path)], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def test_a_loop_link_page_books_every_session_of_the_chosen_option(tmp_path: Path) -> None:
    slots = {
        "status": "open",
        "candidate_name": "Pat",
        "round": "onsite",
        "duration_minutes": 120,
        "slots": [],
        "loop_options": [OPTION],
    }
    booked = [{"start": s["start"], "end": s["end"]} for s in OPTION["sessions"]]
    out = run(slots, {"booking": booked[0], "invite_ics": "BEGIN:VCALENDAR", "bookings": booked}, tmp_path)
    assert "every session is booked together" in out["intro"]
    assert out["legend"].startswith("Option 1")
    (confirm,) = [c for c in out["calls"] if c["method"] == "POST"]
    assert [s["session_id"] for s in confirm["body"]["sessions"]] == ["intro", "coding"]
    assert confirm["body"]["sessions"][1]["interviewer_ids"] == ["bo"]
    assert out["done"].count(";") == 1  # both sessions shown as booked


def test_a_panel_link_page_still_offers_single_slots(tmp_path: Path) -> None:
    slot = {
        "start": "2027-01-04T09:00:00Z",
        "end": "2027-01-04T10:00:00Z",
        "local_date": "2027-01-04",
        "interviewer_ids": ["amy"],
    }
    slots = {"status": "open", "candidate_name": "Pat", "round": "", "duration_minutes": 60, "slots": [slot]}
    out = run(slots, {}, tmp_path)
    assert "60-minute time" in out["intro"]
    assert [c["method"] for c in out["calls"]] == ["GET", "POST"]  # the slot's click holds it
    assert out["calls"][1]["body"] == {"start": slot["start"]}
