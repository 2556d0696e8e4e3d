"""Official documents (申请表, 联系函, 基金转移记录, 信息表, 接续完成通知, 书面说明) rendered to PDF.

`render_official_document(document)` is what the Celery task calls. Nothing here imports WeasyPrint at
module import (see renderer.py).
"""

from applications.documents.context import document_context
from applications.documents.renderer import render_to_pdf


def template_for(kind: str) -> str:
    return f"documents/{kind}.html"


def render_official_document(document) -> bytes:
    """The PDF of an OfficialDocument: its kind's template filled from the document and its case."""
    context = document_context(document)  # checks the kind against DocumentKind
    _html, pdf = render_to_pdf(template_for(document.kind), context)
    return pdf


__all__ = ["render_official_document", "render_to_pdf", "template_for"]
