"""The case logic: the states, the workflow table and its guards, the one writer (services), the audit
trail, and the rules applied to a case (eligibility, deadlines, contributions, materials)."""
