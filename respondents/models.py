"""Invitations, responses and answers arrive with the respondents issue (#4)."""
