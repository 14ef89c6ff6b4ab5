"""The queries of an access request (GDPR Art. 15): table name -> SQL over `$1` tenant and `$2`
candidate id."""

from __future__ import annotations

QUERIES = {
    "scorecards": """SELECT * FROM scorecards WHERE tenant_id = $1 AND candidate_id = $2
        ORDER BY created_at, version""",
    "ratings": """SELECT r.* FROM ratings r JOIN scorecards s
        ON s.tenant_id = r.tenant_id AND s.id = r.scorecard_id AND s.version = r.version
        WHERE r.tenant_id = $1 AND s.candidate_id = $2 ORDER BY r.scorecard_id, r.version, r.dimension""",
    "expected_scorecards": "SELECT * FROM expected_scorecards WHERE tenant_id = $1 AND candidate_id = $2",
    "decisions": "SELECT * FROM decisions WHERE tenant_id = $1 AND candidate_id = $2 ORDER BY decided_at",
    "outcomes": "SELECT * FROM outcomes WHERE tenant_id = $1 AND candidate_id = $2",
    "candidate_demographics": """SELECT * FROM candidate_demographics
        WHERE tenant_id = $1 AND candidate_id = $2""",
    "erased_candidates": "SELECT * FROM erased_candidates WHERE tenant_id = $1 AND candidate_id = $2",
}
