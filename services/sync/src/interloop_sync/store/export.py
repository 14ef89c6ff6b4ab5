"""The queries of an access request (GDPR Art. 15): table name -> SQL over `$1` tenant and `$2`
candidate id."""

from __future__ import annotations

QUERIES = {
    "candidates": "SELECT * FROM candidates WHERE tenant_id = $1 AND remote_id = $2",
    "applications": "SELECT * FROM applications WHERE tenant_id = $1 AND candidate_remote_id = $2",
    "stage_history": """SELECT * FROM stage_history WHERE tenant_id = $1
        AND (connection_id, application_id) IN
        (SELECT connection_id, remote_id FROM applications
         WHERE tenant_id = $1 AND candidate_remote_id = $2)
        ORDER BY entered_at""",
    "offers": """SELECT * FROM offers WHERE tenant_id = $1
        AND (connection_id, application_id) IN
        (SELECT connection_id, remote_id FROM applications
         WHERE tenant_id = $1 AND candidate_remote_id = $2)""",
    "hris_syncs": """SELECT * FROM hris_syncs WHERE tenant_id = $1
        AND (ats_connection_id, application_id) IN
        (SELECT connection_id, remote_id FROM applications
         WHERE tenant_id = $1 AND candidate_remote_id = $2)""",
    "outcomes": "SELECT * FROM outcomes WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY recorded_at",
    "automation_actions": """SELECT * FROM automation_actions WHERE tenant_id = $1
        AND context->>'candidate_id' = $2 ORDER BY event_at""",
    "communications": """SELECT * FROM communications WHERE tenant_id = $1 AND idempotency_key IN
        (SELECT idempotency_key FROM automation_actions
         WHERE tenant_id = $1 AND context->>'candidate_id' = $2)
        ORDER BY sent_at""",
    "erasure_requests": "SELECT * FROM erasure_requests WHERE tenant_id = $1 AND candidate_id = $2",
    "erased_candidates": "SELECT * FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
}
