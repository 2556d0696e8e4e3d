"""Step deadlines in official working days.

Pension (国办发〔2009〕66号 art. 8 and its 经办规程): 15 working days for the contact letter, 15 for the
transfer-out side (funds and information form), 15 for the continuation; 45 in all.
Medical (医保办发〔2021〕43号): the transfer-out side within 10 working days, the transfer-in side within 5.
"""

# Who must act in each window, and which window a state belongs to.
CONTACT_LETTER = "contact_letter"  # transfer-in: review the application, send the letter
TRANSFER_OUT = "transfer_out"  # transfer-out: check, move the funds, send the information form
CONTINUATION = "continuation"  # transfer-in: match the funds, continue the record

DEFAULT_DEADLINES = {
    "pension": {CONTACT_LETTER: 15, TRANSFER_OUT: 15, CONTINUATION: 15},
    "medical": {CONTACT_LETTER: 5, TRANSFER_OUT: 10, CONTINUATION: 5},
}


def working_days_for(scheme: str, window: str, deadlines=None) -> int:
    return (deadlines or DEFAULT_DEADLINES)[scheme][window]
