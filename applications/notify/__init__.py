"""Telling people what happened: in-app notifications recorded by the workflow service, and e-mails
sent by a task after commit, in each recipient's language."""
