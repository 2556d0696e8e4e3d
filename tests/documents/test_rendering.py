"""Every official document renders to a PDF whose text, fonts and pages a receiver can rely on."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from applications.documents import render_official_document, template_for
from applications.documents.context import document_context
from applications.documents.renderer import render_to_pdf
from applications.models import DocumentKind, OfficialDocument, State
from tests.samples import sample_case, sample_document, sample_documents
from tests.world import take

from .pdfcheck import attachments_of, fonts_of, page_count, reader, squash, text_of

pytestmark = pytest.mark.django_db

ALL_KINDS = list(DocumentKind.values)


@pytest.fixture
def rendered():
    """Each kind's document and its PDF, for one completed pension case (and one refused one)."""
    documents = sample_documents(name="张伟", seed=1)
    return {kind: (document, render_official_document(document)) for kind, document in documents.items()}


def test_every_kind_has_a_template_and_renders_a_pdf(rendered):
    assert set(rendered) == set(ALL_KINDS)
    for kind, (_document, pdf) in rendered.items():
        assert (Path(settings.BASE_DIR) / "templates" / template_for(kind)).exists()
        assert pdf.startswith(b"%PDF-"), kind


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_form_is_exactly_one_a4_page(rendered, kind):
    _document, pdf = rendered[kind]
    assert page_count(pdf) == 1
    box = reader(pdf).pages[0].mediabox
    width, height = sorted((float(box.width), float(box.height)))
    # A4 is 210 × 297 mm = 595.3 × 841.9 pt (portrait, or landscape for the information form).
    assert width == pytest.approx(595.3, abs=1) and height == pytest.approx(841.9, abs=1)


def test_long_but_real_values_still_fit_one_page():
    documents = sample_documents(
        name="欧阳娜娜·买买提艾力",
        address="新疆维吾尔自治区乌鲁木齐市天山区解放南路街道人民路社区幸福花园小区12号楼3单元501室（靠近人民广场东侧）",
        employer_name="中国石油天然气集团有限公司新疆油田分公司勘探开发研究院地质研究所",
        agent_name="买买提·艾力江",
        reason="原参保地显示存在2019年3月至2019年8月欠费，且姓名与证件号码登记不一致。" * 3,
        seed=12,
    )
    for kind, document in documents.items():
        assert page_count(render_official_document(document)) == 1, kind


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_form_carries_the_case_identification(rendered, kind):
    document, pdf = rendered[kind]
    case = document.application
    text = squash(text_of(pdf))
    assert case.reference in text
    assert document.verification_code in text
    assert "第1版" in text  # the document version
    assert squash(document.issuing_agency.name) in text
    assert case.person.name in text
    assert case.person.document_number in text


def test_application_form_shows_the_applicant_the_old_place_and_the_scheme(rendered):
    document, pdf = rendered[DocumentKind.APPLICATION_FORM]
    case = document.application
    text = squash(text_of(pdf))
    for expected in (
        "申请表",
        "男" if case.person.sex == "M" else "女",
        case.old_person_number,
        case.transfer_out_agency.region_id,  # the old place's division code
        squash(case.transfer_out_agency.name),
        squash(case.transfer_out_agency.address),
        case.transfer_out_agency.postcode,
        squash(case.transfer_out_agency.phone),
        squash(case.person.address),
        squash(case.new_employer.name),
        "110",
        "企业职工基本养老保险",
        case.agent_name,
        case.agent_phone,
        case.agent_relation,
        "申请人签字",
    ):
        assert expected in text, expected


def test_contact_letter_carries_the_transfer_in_fund_account(rendered):
    document, pdf = rendered[DocumentKind.CONTACT_LETTER]
    case = document.application
    text = squash(text_of(pdf))
    in_agency, out_agency = case.transfer_in_agency, case.transfer_out_agency
    assert f"联系函编号：{case.reference}" in text
    for expected in (
        out_agency.code,
        squash(out_agency.name),
        squash(out_agency.phone),
        squash(out_agency.address),
        out_agency.postcode,
        in_agency.region_id,  # the new place's division code
        squash(in_agency.fund_account_name),
        squash(in_agency.fund_bank),
        in_agency.fund_account_number,
        "户名",
        "开户银行",
        "账号",
    ):
        assert expected in text, expected


def test_fund_transfer_record_shows_the_amounts_with_two_decimals(rendered):
    _document, pdf = rendered[DocumentKind.FUND_TRANSFER_RECORD]
    text = squash(text_of(pdf))
    # The worked example: pooled fund 12% × 162,000.00; personal account 8% credited plus interest.
    assert "19,440.00" in text
    assert "13,335.00" in text
    assert "32,775.00" in text
    assert "叁万贰仟柒佰柒拾伍元整" in text
    assert "HK2026112800012345" in text


def test_information_form_has_every_column_of_the_yearly_table(rendered):
    document, pdf = rendered[DocumentKind.INFORMATION_FORM]
    case = document.application
    text = squash(text_of(pdf))
    for heading in (
        "行政区划代码",
        "参保地",
        "年度",
        "起始月",
        "终止月",
        "月数",
        "月缴费基数",
        "单位缴费比例",
        "划入个人账户比例",
        "个人缴费比例",
        "记账金额",
        "利息",
        "年末个人账户累计储存额",
    ):
        assert heading in text, heading
    for row in case.contribution_years.all():
        assert f"{row.monthly_base:,.2f}" in text
        assert f"{row.year_end_balance:,.2f}" in text
        assert str(row.year) in text
    assert "5,000.00" in text and "16.00%" in text and "8.00%" in text
    assert "32,775.00" in text  # the total
    assert "30个月" in text  # 12 + 12 + 6 months
    assert squash(case.new_employer.name) in text


def test_continuation_notice_says_what_was_received_and_from_when(rendered):
    document, pdf = rendered[DocumentKind.CONTINUATION_NOTICE]
    case = document.application
    text = squash(text_of(pdf))
    assert "32,775.00" in text  # received, equal to the information form's total
    assert "2017年7月" in text  # the record (to June 2017) continues from the next month
    assert squash(case.transfer_in_agency.phone) in text
    assert squash(case.transfer_in_agency.address) in text


def test_written_explanation_gives_reason_legal_basis_and_what_to_do(rendered):
    document, pdf = rendered[DocumentKind.WRITTEN_EXPLANATION]
    case = document.application
    text = squash(text_of(pdf))
    assert "不予受理说明" in text
    assert squash(case.reason) in text
    assert squash(case.legal_basis) in text
    assert "行政复议" in text


def test_a_returned_application_explains_how_to_correct_and_resubmit():
    case = sample_case(state=State.RETURNED, reason="缺少原参保地参保缴费凭证，请上传后重新提交。", seed=2)
    pdf = render_official_document(sample_document(case, DocumentKind.WRITTEN_EXPLANATION))
    text = squash(text_of(pdf))
    assert "退回补正说明" in text
    assert "缺少原参保地参保缴费凭证" in text
    assert "重新提交" in text


def test_the_explanation_keeps_its_reason_after_the_applicant_resubmits():
    """The case's reason is cleared on resubmission; a later (re)render still explains the return."""
    case = sample_case(state=State.RETURNED, reason="姓名与证件号码不一致。", seed=3)
    document = case.documents.get(kind=DocumentKind.WRITTEN_EXPLANATION)
    case = take(case, "resubmit")
    assert (case.state, case.reason, case.legal_basis) == (State.SUBMITTED, "", "")
    assert "姓名与证件号码不一致" in squash(text_of(render_official_document(document)))


def test_a_temporary_account_moves_whole():
    documents = sample_documents(temporary_account=True, seed=11)
    text = squash(text_of(render_official_document(documents[DocumentKind.FUND_TRANSFER_RECORD])))
    assert "临时基本养老保险缴费账户" in text
    # Contributions and interest (本息): 24% × 162,000.00 + 375.00, as the amounts guard computes them.
    assert "39,255.00" in text
    assert "统筹基金" not in text


def test_the_pdf_metadata_names_the_form_and_the_issuing_agency(rendered):
    document, pdf = rendered[DocumentKind.CONTACT_LETTER]
    metadata = reader(pdf).metadata
    assert metadata.title == f"基本养老保险关系转移接续联系函 {document.application.reference}"
    assert metadata.author == document.issuing_agency.name


def test_medical_forms_use_scheme_310_and_move_no_pooled_fund():
    documents = sample_documents(scheme="medical", seed=4)
    text = squash(text_of(render_official_document(documents[DocumentKind.FUND_TRANSFER_RECORD])))
    assert "310" in text and "职工基本医疗保险" in text
    assert "统筹基金" not in text
    assert "13,335.00" in text


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_fonts_are_embedded_and_nothing_is_attached(rendered, kind):
    _document, pdf = rendered[kind]
    fonts = fonts_of(pdf)
    assert fonts
    for name, files in fonts.items():
        assert files, f"{name} is not embedded"
    # The bundled subset sets the form; common text needs no other font.
    assert all("Noto-Sans-SC-GB2312" in name for name in fonts), fonts
    assert attachments_of(pdf) == []


def test_a_one_page_form_stays_small(rendered):
    for kind, (_document, pdf) in rendered.items():
        assert len(pdf) <= 120 * 1024, (kind, len(pdf))


def test_a_rare_name_character_is_drawn_from_the_system_font():
    """喆 is not in GB2312: the full Noto Sans CJK SC supplies it, and it is embedded too."""
    documents = sample_documents(name="吴喆", seed=5)
    pdf = render_official_document(documents[DocumentKind.APPLICATION_FORM])
    assert "吴喆" in squash(text_of(pdf))
    fonts = fonts_of(pdf)
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts
    assert all(files for files in fonts.values())
    assert page_count(pdf) == 1


@pytest.mark.parametrize("name", ["王堃", "李玥", "张赟"])
def test_other_rare_name_characters_render(name):
    case = sample_case(name=name, seed=6)
    pdf = render_official_document(sample_document(case, DocumentKind.CONTACT_LETTER))
    assert name in squash(text_of(pdf))


def test_render_to_pdf_returns_the_html_too(rendered):
    document, _pdf = rendered[DocumentKind.CONTACT_LETTER]
    html, pdf = render_to_pdf(template_for(document.kind), document_context(document))
    assert document.application.reference in html
    assert 'href="forms.css"' in html
    assert pdf.startswith(b"%PDF-")


def test_an_unknown_kind_is_refused(rendered):
    document, _pdf = rendered[DocumentKind.CONTACT_LETTER]
    document.kind = "../base_form"
    with pytest.raises(ValueError, match="unknown document kind"):
        render_official_document(document)


def test_the_document_task_renders_and_stores_the_pdf(rendered, tmp_path, settings):
    """The Celery task calls render_official_document; the stored file is the PDF it returned."""
    import hashlib

    from applications.documents.tasks import render_document

    settings.PRIVATE_STORAGE_DIR = tmp_path
    document, _pdf = rendered[DocumentKind.CONTACT_LETTER]
    assert render_document.run(document.pk) == "ready"
    document.refresh_from_db()
    stored = document.file.read()
    assert document.status == "ready"
    assert (tmp_path / document.file.name).exists()
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.application.reference in squash(text_of(stored))


def test_weasyprint_is_not_imported_with_the_documents_package():
    """Web processes import the package (through tasks) but never render: WeasyPrint costs ~0.5 s."""
    code = (
        "import django, sys; django.setup();"
        "import applications.documents, applications.documents.renderer, applications.documents.tasks;"
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "transfer_portal.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        (DocumentKind.APPLICATION_FORM, 1),  # the case with its person, employer, agencies and regions
        (DocumentKind.INFORMATION_FORM, 2),  # + the yearly table
        (DocumentKind.CONTINUATION_NOTICE, 2),
        (DocumentKind.WRITTEN_EXPLANATION, 2),  # + the event that explained the return or refusal
    ],
)
def test_a_render_costs_a_fixed_number_of_queries(rendered, kind, queries, django_assert_num_queries):
    document = OfficialDocument.objects.select_related("issuing_agency").get(pk=rendered[kind][0].pk)
    with django_assert_num_queries(queries):
        render_official_document(document)
