"""People: identity documents, roles and their homes, the second factor, sign-up forms."""
