"""The queries of an access request (GDPR Art. 15): table name -> SQL over `$1` tenant and `$2`
candidate id."""

from __future__ import annotations

QUERIES = {
    "scheduling_links": "SELECT * FROM scheduling_links WHERE tenant_id = $1 AND candidate_id = $2",
    "holds": """SELECT * FROM holds WHERE tenant_id = $1 AND link_id IN
        (SELECT id FROM scheduling_links WHERE tenant_id = $1 AND candidate_id = $2)""",
    "bookings": "SELECT * FROM bookings WHERE tenant_id = $1 AND candidate_id = $2",
    "reminders": """SELECT * FROM reminders WHERE tenant_id = $1 AND booking_id IN
        (SELECT id FROM bookings WHERE tenant_id = $1 AND candidate_id = $2)""",
    "calendar_writes": """SELECT * FROM calendar_writes WHERE tenant_id = $1 AND booking_id IN
        (SELECT id FROM bookings WHERE tenant_id = $1 AND candidate_id = $2)""",
    "erased_candidates": "SELECT * FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
}
