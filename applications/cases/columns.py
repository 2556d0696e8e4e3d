"""Money and rates as their database columns hold them.

Every form field and validator of an amount or a rate reads its digits from the model's column here, so a
value the portal accepts always fits the database (a value that does not fit was a server error, DataError
on PostgreSQL) and a column widened by a migration widens the forms with it.
"""

from decimal import Decimal

from django import forms
from django.utils.formats import number_format


def digits_of(model, name) -> tuple[int, int]:
    """(max_digits, decimal_places) of a DecimalField column."""
    field = model._meta.get_field(name)
    return field.max_digits, field.decimal_places


def largest(model, name) -> Decimal:
    """The largest value the column holds: 999…9.99 for max_digits=14, decimal_places=2."""
    max_digits, places = digits_of(model, name)
    return Decimal(10 ** (max_digits - places)) - Decimal(1).scaleb(-places)


def fits(model, name, value: Decimal) -> bool:
    """The value can be stored in the column without rounding or overflowing."""
    _max_digits, places = digits_of(model, name)
    return value.is_finite() and value.as_tuple().exponent >= -places and abs(value) <= largest(model, name)


def shown(value: Decimal) -> str:
    """An amount as the user reads it (grouped thousands)."""
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)


def amount_field(model, name, **kwargs) -> forms.DecimalField:
    """A form field for an amount in yuan, never negative, with the column's digits."""
    max_digits, places = digits_of(model, name)
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("max_value", largest(model, name))
    return forms.DecimalField(max_digits=max_digits, decimal_places=places, **kwargs)
