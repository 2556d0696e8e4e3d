"""Employers: the employee list and its import, bulk filing."""
