"""Per-tenant automation rules: ``on <event> [if <condition>] do <action> [after <delay>]``.

Rules come as a small text DSL or an equivalent JSON form; both parse into the same ``Rule``. Conditions
are evaluated by a tiny tree-walking evaluator over the normalised event's fields (==, !=, in, not in,
and, or, not, parentheses) — never ``eval``. ``plan`` turns one event into at most one ``PlannedAction``
per rule, keyed ``<rule id>:<event id>`` so a redelivered event cannot fire a rule twice.

DSL examples::

    rule schedule: on stage_change if is_interview_stage == true do open_scheduling_request
    rule take-home: on stage_change if to_stage.name in ["Assessment", "Take-home"] do dispatch_assessment("https://assess.example.com/t/1")
    rule decline: on rejection if reason != "Withdrew" do send_email("rejection_default") after 2d
    rule auto-reject: on application_changed if application.source == "Spam" do reject after 24h
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import hashlib
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from jinja2 import DictLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .model import (
    Anonymisation,
    ApplicationChanged,
    CandidateChanged,
    Deletion,
    Hire,
    JobChanged,
    Merge,
    NormalisedEvent,
    OfferChanged,
    Ping,
    Rejection,
    StageChange,
    Unrecognised,
)

MIN_REJECT_DELAY = timedelta(hours=24)
ASSESSMENT_REMINDER = timedelta(hours=48)

EVENT_KINDS: Mapping[type, str] = {
    Ping: "ping",
    CandidateChanged: "candidate_changed",
    ApplicationChanged: "application_changed",
    StageChange: "stage_change",
    OfferChanged: "offer_changed",
    Hire: "hire",
    Rejection: "rejection",
    Merge: "merge",
    Deletion: "deletion",
    Anonymisation: "anonymisation",
    JobChanged: "job_changed",
    Unrecognised: "unrecognised",
}
ACTIONS = (
    "send_email",
    "call_webhook",
    "open_scheduling_request",
    "dispatch_assessment",
    "start_background_check",
    "reject",
)
# The positional argument each action takes in the DSL, and whether it is required.
_POSITIONAL = {
    "send_email": ("template", True),
    "call_webhook": ("url", True),
    "dispatch_assessment": ("link", True),
    "start_background_check": ("package", False),
    "reject": ("reason", False),
    "open_scheduling_request": (None, False),
}


class RuleError(ValueError):
    """A rule that cannot be accepted; names the rule and what would be right."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"rule {rule!r}: {reason}")
        self.rule = rule
        self.reason = reason


def event_kind(event: NormalisedEvent) -> str:
    return EVENT_KINDS[type(event)]


# ---- condition tree -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    path: str
    op: str  # == != in "not in"
    value: Any


@dataclass(frozen=True, slots=True)
class Truthy:
    path: str


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Compare | Truthy | All | AnyOf | Not

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def field_value(event: NormalisedEvent, path: str) -> Any:
    """Resolve a dotted path over the event (dataclass attributes, mapping keys); missing → None."""
    if path == "kind":
        return event_kind(event)
    current: Any = event
    for part in path.split("."):
        if part.startswith("_"):
            return None  # never reach private attributes
        if isinstance(current, Mapping):
            current = current.get(part)
        elif dataclasses.is_dataclass(current) and part in {f.name for f in dataclasses.fields(current)}:
            current = getattr(current, part)
        else:
            return None
        if current is None:
            return None
    return current


def _norm(value: Any) -> Any:
    # Ids arrive as strings in the model; let rule authors write 71416 or "71416".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def evaluate(condition: Condition | None, event: NormalisedEvent) -> bool:
    if condition is None:
        return True
    if isinstance(condition, All):
        return all(evaluate(c, event) for c in condition.items)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, event) for c in condition.items)
    if isinstance(condition, Not):
        return not evaluate(condition.item, event)
    if isinstance(condition, Truthy):
        return bool(field_value(event, condition.path))
    actual = _norm(field_value(event, condition.path))
    if condition.op in ("in", "not in"):
        options = condition.value if isinstance(condition.value, list | tuple) else [condition.value]
        if isinstance(actual, list | tuple):  # any overlap, e.g. job_ids in [...]
            found = any(_norm(a) in [_norm(o) for o in options] for a in actual)
        else:
            found = actual in [_norm(o) for o in options]
        return found if condition.op == "in" else not found
    expected = _norm(condition.value)
    return actual == expected if condition.op == "==" else actual != expected


# ---- rules ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    on: str  # a normalised kind (stage_change) or a vendor action name (candidate_stage_change)
    action: Action
    condition: Condition | None = None
    delay: timedelta = timedelta(0)
    enabled: bool = True

    def matches(self, event: NormalisedEvent) -> bool:
        return (
            self.enabled and self.on in (event_kind(event), event.action) and evaluate(self.condition, event)
        )


@dataclass(frozen=True, slots=True)
class PlannedAction:
    rule_id: str
    action: Action
    due_at: datetime
    idempotency_key: str
    # dispatch_assessment: when to send the reminder if the assessment is still open.
    follow_up_at: datetime | None = None


_DELAY = re.compile(r"(\d+)\s*([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_delay(text: str | int | float | None, rule_id: str = "?") -> timedelta:
    """``"48h"``, ``"2d"``, ``"1d12h"``, ``"90m"`` or a number of seconds."""
    if text is None or text == "":
        return timedelta(0)
    if isinstance(text, bool):
        raise RuleError(rule_id, "delay must be a duration like '24h'")
    if isinstance(text, int | float):
        return timedelta(seconds=text)
    compact = text.replace(" ", "")
    parts = _DELAY.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise RuleError(rule_id, f"bad delay {text!r}; expected e.g. '24h', '2d', '1d12h', '30m'")
    total = timedelta(0)
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    return total


def _validate_url(rule_id: str, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RuleError(rule_id, f"{name} must be a URL string")
    parsed = urlparse(value)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise RuleError(rule_id, f"{name} {value!r} is not an http(s) URL")
    return value


def make_rule(
    rule_id: str,
    on: str,
    action: str,
    args: Mapping[str, Any] | None = None,
    condition: Condition | None = None,
    delay: timedelta = timedelta(0),
    enabled: bool = True,
    templates: Iterable[str] | None = None,
) -> Rule:
    """Build and validate a rule (both the DSL and the JSON form end here)."""
    args = dict(args or {})
    if not on or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", on):
        raise RuleError(rule_id, f"bad event name {on!r}")
    if action not in ACTIONS:
        raise RuleError(rule_id, f"unknown action {action!r}; expected one of {list(ACTIONS)}")
    if delay < timedelta(0):
        raise RuleError(rule_id, "delay cannot be negative")
    if action == "send_email":
        template = args.get("template")
        if not isinstance(template, str) or not template:
            raise RuleError(rule_id, "send_email needs a template name")
        if templates is not None and template not in set(templates):
            raise RuleError(rule_id, f"email template {template!r} does not exist")
    elif action == "call_webhook":
        _validate_url(rule_id, "url", args.get("url"))
    elif action == "dispatch_assessment":
        _validate_url(rule_id, "link", args.get("link"))
        reminder = parse_delay(args.get("reminder", "48h"), rule_id)
        args["reminder"] = reminder
    elif action == "reject" and delay < MIN_REJECT_DELAY:
        # Candidates must never be rejected instantly by a machine: give a human a day to intervene.
        raise RuleError(
            rule_id, f"reject must be delayed by at least 24h (got {delay}); add 'after 24h' or longer"
        )
    return Rule(rule_id, on, Action(action, args), condition, delay, enabled)


# ---- DSL ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<dur>\d+[dhms](?:\d+[dhms])*(?![A-Za-z0-9_]))
      | (?P<num>-?\d+(?:\.\d+)?(?![A-Za-z_]))
      | (?P<op>==|!=|\(|\)|\[|\]|,|=|:)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "on", "if", "do", "after", "rule"}


def _tokens(text: str, rule_id: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError(rule_id, f"unexpected text at {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("lit", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("dur") is not None:
            out.append(("dur", m.group("dur")))
        elif m.group("num") is not None:
            n = m.group("num")
            out.append(("lit", int(n) if "." not in n else n))  # decimals stay strings: never float
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            word = m.group("word")
            if word in ("true", "false"):
                out.append(("lit", word == "true"))
            elif word == "null":
                out.append(("lit", None))
            elif word in _KEYWORDS:
                out.append(("kw", word))
            else:
                out.append(("word", word))
    return out


class _DslParser:
    def __init__(self, text: str, rule_id: str) -> None:
        self.rule_id = rule_id
        self.toks = _tokens(text, rule_id)
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            want = value if value is not None else kind
            raise RuleError(self.rule_id, f"expected {want!r} but found {tok[1] if tok else 'end of rule'!r}")
        self.i += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == kind and (value is None or tok[1] == value)

    # condition grammar: or_expr := and_expr ("or" and_expr)*; and_expr := unary ("and" unary)*
    def condition(self) -> Condition:
        items = [self.conjunction()]
        while self.at("kw", "or"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def conjunction(self) -> Condition:
        items = [self.unary()]
        while self.at("kw", "and"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else All(tuple(items))

    def unary(self) -> Condition:
        if self.at("kw", "not") and not self._is_not_in():
            self.take()
            return Not(self.unary())
        if self.at("op", "("):
            self.take()
            inner = self.condition()
            self.take("op", ")")
            return inner
        _, path = self.take("word")
        if not _PATH.match(path):
            raise RuleError(self.rule_id, f"bad field path {path!r}")
        if self.at("op", "==") or self.at("op", "!="):
            op = self.take()[1]
            return Compare(path, op, self.literal())
        if self.at("kw", "in"):
            self.take()
            return Compare(path, "in", self.literal())
        if self._is_not_in():
            self.take()
            self.take()
            return Compare(path, "not in", self.literal())
        return Truthy(path)

    def _is_not_in(self) -> bool:
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        return self.at("kw", "not") and nxt == ("kw", "in")

    def literal(self) -> Any:
        if self.at("op", "["):
            self.take()
            items = []
            while not self.at("op", "]"):
                items.append(self.literal())
                if not self.at("op", "]"):
                    self.take("op", ",")
            self.take("op", "]")
            return items
        tok = self.peek()
        if tok is None or tok[0] != "lit":
            raise RuleError(self.rule_id, f"expected a value but found {tok[1] if tok else 'end of rule'!r}")
        self.i += 1
        return tok[1]

    def action_args(self, action: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if not self.at("op", "("):
            return args
        self.take()
        positional = _POSITIONAL.get(action, (None, False))[0]
        while not self.at("op", ")"):
            tok = self.peek()
            nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            if tok and tok[0] == "word" and nxt in (("op", "="), ("op", ":")):
                self.take()
                self.take()
                args[tok[1]] = self.literal()
            else:
                if positional is None or positional in args:
                    raise RuleError(self.rule_id, f"{action} takes no positional argument here")
                args[positional] = self.literal()
            if not self.at("op", ")"):
                self.take("op", ",")
        self.take("op", ")")
        return args


def parse_rule(text: str, rule_id: str | None = None, templates: Iterable[str] | None = None) -> Rule:
    """Parse one DSL rule. ``rule <id>:`` may prefix it; otherwise the id is a hash of the text."""
    rid = rule_id or "r-" + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]
    p = _DslParser(text, rid)
    if p.at("kw", "rule"):
        p.take()
        rid = rule_id or p.take("word")[1]
        p.rule_id = rid
        p.take("op", ":")
    p.take("kw", "on")
    on = p.take("word")[1]
    condition = None
    if p.at("kw", "if"):
        p.take()
        condition = p.condition()
    p.take("kw", "do")
    action = p.take("word")[1]
    args = p.action_args(action)
    delay = timedelta(0)
    if p.at("kw", "after"):
        p.take()
        delay = parse_delay(str(p.take("dur")[1]), rid)
    if p.peek() is not None:
        raise RuleError(rid, f"unexpected {p.peek()[1]!r} after the rule")  # type: ignore[index]
    return make_rule(rid, on, action, args, condition, delay, templates=templates)


def parse_rules(text: str, templates: Iterable[str] | None = None) -> list[Rule]:
    """One rule per non-blank line; ``#`` starts a comment line. Rule ids must be unique."""
    rules = [
        parse_rule(line.strip(), templates=templates)
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    _check_unique(rules)
    return rules


def _check_unique(rules: Sequence[Rule]) -> None:
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RuleError(r.id, "duplicate rule id")
        seen.add(r.id)


# ---- JSON form --------------------------------------------------------------------------------------------


def condition_from_json(raw: Any, rule_id: str) -> Condition:
    """``{"all": [...]}``, ``{"any": [...]}``, ``{"not": c}``, ``{"field": p, "op": "==", "value": v}``."""
    if not isinstance(raw, Mapping):
        raise RuleError(rule_id, f"condition must be an object, got {raw!r}")
    if "all" in raw:
        return All(tuple(condition_from_json(c, rule_id) for c in raw["all"]))
    if "any" in raw:
        return AnyOf(tuple(condition_from_json(c, rule_id) for c in raw["any"]))
    if "not" in raw:
        return Not(condition_from_json(raw["not"], rule_id))
    path, op = raw.get("field"), raw.get("op", "truthy")
    if not isinstance(path, str) or not _PATH.match(path):
        raise RuleError(rule_id, f"bad field path {path!r}")
    if op == "truthy":
        return Truthy(path)
    if op not in ("==", "!=", "in", "not in"):
        raise RuleError(rule_id, f"bad operator {op!r}; expected ==, !=, in, not in")
    if isinstance(raw.get("value"), float):
        raise RuleError(rule_id, "compare against strings or integers, not floats")
    return Compare(path, op, raw.get("value"))


def rule_from_json(raw: Mapping[str, Any], templates: Iterable[str] | None = None) -> Rule:
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        raise RuleError("?", "JSON rules need an 'id'")
    action = raw.get("do")
    if isinstance(action, str):
        kind, args = action, {}
    elif isinstance(action, Mapping):
        kind, args = action.get("action"), {k: v for k, v in action.items() if k != "action"}
    else:
        raise RuleError(rid, "'do' must be an action name or {'action': ..., args}")
    condition = condition_from_json(raw["if"], rid) if raw.get("if") is not None else None
    return make_rule(
        rid,
        str(raw.get("on", "")),
        str(kind),
        args,
        condition,
        parse_delay(raw.get("after"), rid),
        bool(raw.get("enabled", True)),
        templates,
    )


def rules_from_json(raw: Sequence[Mapping[str, Any]], templates: Iterable[str] | None = None) -> list[Rule]:
    rules = [rule_from_json(r, templates) for r in raw]
    _check_unique(rules)
    return rules


# ---- planning ----------------------------------------------------------------------------------------------


def idempotency_key(rule_id: str, event_id: str) -> str:
    return f"{rule_id}:{event_id}"


def plan(rules: Iterable[Rule], event: NormalisedEvent, now: datetime) -> list[PlannedAction]:
    """What the event triggers: one planned action per matching rule, due after the rule's delay."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    planned = []
    for rule in rules:
        if not rule.matches(event):
            continue
        due = now + rule.delay
        follow_up = due + rule.action.args["reminder"] if rule.action.kind == "dispatch_assessment" else None
        planned.append(
            PlannedAction(rule.id, rule.action, due, idempotency_key(rule.id, event.event_id), follow_up)
        )
    return planned


# ---- email templates -----------------------------------------------------------------------------------


class EmailTemplateError(Exception):
    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"email template {template!r}: {reason}")
        self.template = template
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    subject: str
    body: str
    html: bool = False


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    body: str
    html: bool


# What one tenant's template may cost to render (it runs on the worker every tenant shares): iterations of
# `range` over the whole render, numbers handed to functions and filters, the size of powers and
# repetitions, the output, and the time.
MAX_ITERATIONS = 10_000
MAX_ARGUMENT = 10_000
MAX_EXPONENT = 64
MAX_OUTPUT = 100_000  # characters of a body (a subject is a header line: 998)
MAX_SUBJECT = 998
MAX_RENDER_SECONDS = 2.0


class _Budget:
    """One render's allowance, spent by every `range` step and output chunk."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        self.iterations = 0

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise SecurityError(f"more than {MAX_ITERATIONS} loop iterations")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS:g}s")


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("email_template_budget")


def _check_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
            raise SecurityError(f"argument {value!r} is larger than {MAX_ARGUMENT}")


def _bounded_range(*args: int) -> Iterable[int]:
    steps = range(*args)
    if len(steps) > MAX_ITERATIONS:
        raise SecurityError(f"range of more than {MAX_ITERATIONS} items")
    budget = _BUDGET.get()
    for i in steps:
        budget.tick()
        yield i


def _guarded_filter(f: Any) -> Any:
    skip = 2 if getattr(f, "jinja_pass_arg", None) is not None else 1  # the context/environment, the value

    @functools.wraps(f)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args[skip:], kwargs)
        return f(*args, **kwargs)

    return guarded


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with limits on loops, numbers, powers, repetition and output."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.filters = {name: _guarded_filter(f) for name, f in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"power of more than {MAX_EXPONENT}")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT:
                    raise SecurityError(f"a repetition of more than {MAX_OUTPUT} items")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _render(env: SandboxedEnvironment, template: str, context: Mapping[str, Any], limit: int) -> str:
    """The template's output, chunk by chunk within the output limit and the render's budget."""
    budget = _BUDGET.get()
    out: list[str] = []
    size = 0
    for chunk in env.get_template(template).generate(context):
        size += len(chunk)
        if size > limit:
            raise SecurityError(f"output of more than {limit} characters")
        if time.monotonic() > budget.deadline:
            raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS:g}s")
        out.append(chunk)
    return "".join(out)


class EmailTemplates:
    """Tenant-authored templates rendered in a bounded Jinja2 sandbox: an undefined variable is an error,
    and so is a template that would loop, multiply or write beyond the limits above."""

    def __init__(self, templates: Mapping[str, EmailTemplate]) -> None:
        self._templates = dict(templates)
        sources = {}
        for name, t in self._templates.items():
            sources[f"{name}/subject"] = t.subject
            sources[f"{name}/body"] = t.body
        self._text = _BoundedSandbox(loader=DictLoader(sources), undefined=StrictUndefined, autoescape=False)
        self._html = _BoundedSandbox(loader=DictLoader(sources), undefined=StrictUndefined, autoescape=True)
        for name in self._templates:  # fail at load time, not at send time
            for part in ("subject", "body"):
                try:
                    self._text.get_template(f"{name}/{part}")
                except TemplateSyntaxError as exc:
                    raise EmailTemplateError(name, f"{part} line {exc.lineno}: {exc.message}") from None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._templates)

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedEmail:
        template = self._templates.get(name)
        if template is None:
            raise EmailTemplateError(name, f"does not exist; known: {sorted(self._templates)}")
        token = _BUDGET.set(_Budget())
        try:
            # Subjects are headers: never HTML-escaped, and newlines would allow header injection.
            subject = _render(self._text, f"{name}/subject", context, MAX_SUBJECT)
            env = self._html if template.html else self._text
            body = _render(env, f"{name}/body", context, MAX_OUTPUT)
        except UndefinedError as exc:
            raise EmailTemplateError(name, f"undefined variable: {exc.message}") from None
        except SecurityError as exc:
            raise EmailTemplateError(name, f"unsafe template operation: {exc}") from None
        except TemplateNotFound as exc:
            raise EmailTemplateError(name, f"missing part {exc.name}") from None
        except (OverflowError, MemoryError) as exc:
            raise EmailTemplateError(name, f"unsafe template operation: {type(exc).__name__}") from None
        finally:
            _BUDGET.reset(token)
        return RenderedEmail(" ".join(subject.split()), body, template.html)
