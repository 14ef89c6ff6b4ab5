"""Interview emails: who gets which message, keys that make redeliveries harmless, times in each
recipient's zone, and the default templates rendering every variant under StrictUndefined."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from interloop.events.v1 import interview_pb2, scorecard_pb2
from interloop_common.events import new_event
from interloop_common.rpc import ts
from interloop_sync.domain.automations import EmailTemplates
from interloop_sync.usecases.automations import DEFAULT_INTERVIEW
from interloop_sync.usecases.interview_mail import TEMPLATES, local, plan, recipient_tag

START = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # the night Europe/London springs forward
END = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
ATTENDEES = [
    interview_pb2.Attendee(email="Ada@Mail.test", name="Ada", role="candidate", time_zone="Europe/London"),
    interview_pb2.Attendee(email="eve@acme.test", name="Eve", role="interviewer", time_zone="Asia/Tokyo"),
    interview_pb2.Attendee(email="bob@acme.test", name="", role="interviewer", time_zone=""),
]


def _event(type_: str, payload):  # type: ignore[no-untyped-def]
    return new_event(type=type_, source="//test", tenant_id="t", subject="booking/b1", payload=payload)


def _scheduled(type_: str = "interview.scheduled", sequence: int = 0):  # type: ignore[no-untyped-def]
    msg = interview_pb2.InterviewScheduled(
        booking_id="b1",
        candidate_id="c1",
        start=ts(START),
        end=ts(END),
        sequence=sequence,
        round="Onsite",
        attendees=ATTENDEES,
        invite_ics=b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        manage_url="https://interloop.example/schedule/tok",
    )
    if type_ == "interview.rescheduled":
        msg.previous_start.CopyFrom(ts(datetime(2027, 3, 27, 9, tzinfo=UTC)))
    return _event(type_, msg)


def test_local_time_is_the_recipients_own_across_dst() -> None:
    assert local(START, "Europe/London") == "Sunday 28 March 2027, 00:30 (Europe/London)"
    assert local(END, "Europe/London") == "Sunday 28 March 2027, 02:30 (Europe/London)"  # BST from 01:00
    assert local(START, "Asia/Tokyo") == "Sunday 28 March 2027, 09:30 (Asia/Tokyo)"
    assert local(START, "") == "Sunday 28 March 2027, 00:30 (UTC)"
    assert local(START, "Not/AZone") == "Sunday 28 March 2027, 00:30 (UTC)"


def test_every_attendee_gets_the_invite_keyed_by_booking_sequence_and_address() -> None:
    planned = plan(_scheduled())
    assert [c["recipient"] for _, c in planned] == ["Ada@Mail.test", "eve@acme.test", "bob@acme.test"]
    assert [k for k, _ in planned] == [
        "interview-mail:b1:interview.scheduled:0:" + recipient_tag("ada@mail.test"),
        "interview-mail:b1:interview.scheduled:0:" + recipient_tag("eve@acme.test"),
        "interview-mail:b1:interview.scheduled:0:" + recipient_tag("bob@acme.test"),
    ]
    ada, eve, bob = (c for _, c in planned)
    assert ada["start"].endswith("00:30 (Europe/London)") and ada["end_time"] == "02:30"
    assert eve["start"].endswith("09:30 (Asia/Tokyo)") and bob["start"].endswith("(UTC)")
    assert eve["candidate_name"] == "Ada" and eve["interviewers"] == "Eve, bob@acme.test"
    assert all(c["method"] == "REQUEST" and "METHOD:REQUEST" in c["ics"] for c in (ada, eve, bob))
    assert all(c["candidate_id"] == "c1" for c in (ada, eve, bob))  # what erasure redacts by
    # the reschedule/cancel page is the candidate's bearer link: in their mail only
    assert ada["manage_url"].endswith("/schedule/tok") and eve["manage_url"] == bob["manage_url"] == ""
    # A reschedule is a new message (a new sequence), a redelivery of the same one is the same key.
    assert {k for k, _ in plan(_scheduled())} == {k for k, _ in planned}
    moved = plan(_scheduled("interview.rescheduled", sequence=1))
    assert not {k for k, _ in moved} & {k for k, _ in planned}
    assert moved[0][1]["previous_start"] == "Saturday 27 March 2027, 09:00 (Europe/London)"


def test_overdue_scorecard_reminds_only_an_interviewer_with_an_address() -> None:
    def overdue(email: str, nudge: int):  # type: ignore[no-untyped-def]
        return _event(
            "scorecard.overdue",
            scorecard_pb2.ScorecardOverdue(
                booking_id="b1", interviewer_id="eve", interviewer_email=email, nudge=nudge, due_at=ts(END)
            ),
        )

    assert plan(overdue("", 1)) == []
    (first,) = plan(overdue("eve@acme.test", 1))
    (second,) = plan(overdue("eve@acme.test", 2))
    assert first[0] == "scorecard-overdue:b1:eve:1" and second[0] != first[0]
    assert first[1]["recipient"] == "eve@acme.test" and first[1]["due"].endswith("(UTC)")


def test_cancellation_goes_to_everyone_and_reminders_to_the_candidate_only() -> None:
    cancelled = plan(
        _event(
            "interview.cancelled",
            interview_pb2.InterviewCancelled(
                booking_id="b1",
                sequence=2,
                reason="role filled",
                attendees=ATTENDEES,
                start=ts(START),
                end=ts(END),
                invite_ics=b"METHOD:CANCEL",
            ),
        )
    )
    assert len(cancelled) == 3 and {c["method"] for _, c in cancelled} == {"CANCEL"}
    reminders = [
        plan(
            _event(
                "interview.reminder_due",
                interview_pb2.InterviewReminderDue(
                    booking_id="b1", lead=lead, start=ts(START), end=ts(END), attendees=ATTENDEES
                ),
            )
        )
        for lead in ("24h", "1h")
    ]
    assert [[c["recipient"] for _, c in r] for r in reminders] == [["Ada@Mail.test"], ["Ada@Mail.test"]]
    assert reminders[0][0][0] != reminders[1][0][0] and reminders[0][0][1]["ics"] == ""


def test_a_cancellation_the_candidate_is_not_told_of_goes_to_the_panel_only() -> None:
    """The ATS closed the application and the tenant's policy keeps the cancellation from the candidate."""
    msg = interview_pb2.InterviewCancelled(
        booking_id="b1",
        sequence=2,
        reason="the application was rejected",
        attendees=ATTENDEES,
        start=ts(START),
        end=ts(END),
        invite_ics=b"METHOD:CANCEL",
        candidate_not_told=True,
    )
    panel = plan(_event("interview.cancelled", msg))
    assert [c["recipient"] for _, c in panel] == ["eve@acme.test", "bob@acme.test"]
    assert {c["role"] for _, c in panel} == {"interviewer"}
    msg.candidate_not_told = False
    assert [c["role"] for _, c in plan(_event("interview.cancelled", msg))][0] == "candidate"


@pytest.mark.parametrize("event_type", sorted(TEMPLATES))
def test_default_templates_render_for_candidate_and_interviewer(event_type: str) -> None:
    if event_type == "interview.cancelled":
        event = _event(
            event_type,
            interview_pb2.InterviewCancelled(
                booking_id="b1", reason="", attendees=ATTENDEES, start=ts(START), end=ts(END)
            ),
        )
    elif event_type == "interview.reminder_due":
        event = _event(
            event_type,
            interview_pb2.InterviewReminderDue(
                booking_id="b1", lead="1h", start=ts(START), end=ts(END), attendees=ATTENDEES
            ),
        )
    elif event_type == "scorecard.overdue":
        event = _event(
            event_type,
            scorecard_pb2.ScorecardOverdue(
                booking_id="b1",
                interviewer_id="eve",
                interviewer_email="eve@acme.test",
                interviewer_name="Eve",
                interviewer_time_zone="Asia/Tokyo",
                round="Onsite",
                interview_end=ts(END),
                due_at=ts(END),
                nudge=2,
            ),
        )
    else:
        event = _scheduled(event_type)
    templates = EmailTemplates(DEFAULT_INTERVIEW)
    for _, context in plan(event):
        rendered = templates.render(context["template"], context)
        assert "\n" not in rendered.subject
        if event_type == "scorecard.overdue":
            ended = "Sunday 28 March 2027, 10:30 (Asia/Tokyo)"
            assert rendered.subject == f"Scorecard overdue: Onsite that ended {ended}"
            assert "Hello Eve," in rendered.body and "(reminder 2)" in rendered.body
            continue
        assert context["start"] in rendered.subject
        assert rendered.body.startswith(f"Hello {context['name'] or 'there'},")
        if context["role"] == "candidate":
            assert "your" in rendered.subject.lower()
            if event_type in ("interview.scheduled", "interview.rescheduled"):
                assert "Reschedule or cancel here: https://interloop.example/schedule/tok" in rendered.body
        else:
            assert "Ada" in rendered.subject and "with Ada" in rendered.body


def test_no_invite_for_an_interview_recorded_after_it_ended() -> None:
    past = interview_pb2.InterviewScheduled(
        booking_id="b0",
        start=ts(datetime(2020, 1, 6, 9, tzinfo=UTC)),
        end=ts(datetime(2020, 1, 6, 10, tzinfo=UTC)),
        attendees=ATTENDEES,
        invite_ics=b"METHOD:REQUEST",
    )
    assert plan(_event("interview.scheduled", past)) == []
    assert len(plan(_scheduled())) == 3


def test_a_move_onto_another_panel_cancels_it_for_whoever_left() -> None:
    moved = interview_pb2.InterviewScheduled(
        booking_id="b1",
        candidate_id="c1",
        start=ts(START),
        end=ts(END),
        sequence=1,
        attendees=ATTENDEES[:2],
        invite_ics=b"METHOD:REQUEST",
        removed_attendees=[ATTENDEES[2]],
        removed_cancel_ics=b"METHOD:CANCEL",
    )
    moved.previous_start.CopyFrom(ts(datetime(2027, 3, 27, 9, tzinfo=UTC)))
    planned = plan(_event("interview.rescheduled", moved))
    assert [(c["recipient"], c["method"], c["template"]) for _, c in planned] == [
        ("Ada@Mail.test", "REQUEST", "interview_rescheduled"),
        ("eve@acme.test", "REQUEST", "interview_rescheduled"),
        ("bob@acme.test", "CANCEL", "interview_cancelled"),
    ]
    key, bob = planned[2]
    assert key == "interview-mail:b1:interview.rescheduled:1:removed:" + recipient_tag("Bob@Acme.test")
    assert bob["ics"] == "METHOD:CANCEL" and bob["start"] == "Saturday 27 March 2027, 09:00 (UTC)"
    assert bob["end_time"] == "10:00" and "no longer on its panel" in bob["reason"]


@pytest.mark.parametrize(
    "subject",
    [
        # 78 characters ending in a parenthesised zone: CPython's 78-column folding moved it whole onto a
        # continuation line, and it read back as " Reminder: …" (on the day the date was long enough)
        "Reminder: your interview on Friday 4 December 2026, 19:03 (America/Sao_Paulo)",
        "Interview confirmed: your Onsite Interview, Wednesday 29 September 2027, 16:43 "
        "(America/Argentina/Buenos_Aires)",
        "Entretien confirmé : lundi 6 décembre 2027, 09:00 (Europe/Paris)",
    ],
)
def test_a_subject_reads_back_exactly_as_rendered(subject: str) -> None:
    from email import message_from_bytes, policy

    from interloop_sync.domain.automations import RenderedEmail
    from interloop_sync.usecases.automations import build_message

    sent = build_message(
        "no-reply@interloop.test", "ada@mail.test", RenderedEmail(subject, "body", False), "k:1", {}
    )
    raw = sent.as_bytes()  # what goes over SMTP
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert str(message_from_bytes(raw, policy=policy.default)["Subject"]) == subject
