"""A PDF carrying active content (scripts, automatic or launch actions, embedded files, media,
XFA forms) is refused through the real upload route, beside the field, and nothing is stored;
a plain PDF, one with a web link or one that opens on a page, is accepted.

The files are built with pypdf's object model (the same in pypdf 5, 6 and 7; the writer's
``add_js`` helper is gone in 7) the way PDF producers write them, and one by hand with its
names hex-escaped (``/J#61vaScript``), which readers decode.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from functools import partial

import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from portal.extensions import db
from portal.suppliers.models import ServiceContract, Supplier
from portal.suppliers.services import DOCUMENT_FOLDER
from portal.uploads import upload_root
from tests.feedback.factories import make_category, make_contract, make_supplier
from tests.helpers import form_data, hand_written_pdf

REFUSED_ZH = "此 PDF 文件含有活动内容"
REFUSED_EN = "This PDF file contains active content"


def _name(value: str) -> NameObject:
    return NameObject(value)


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({_name("/Type"): _name("/Action"), _name("/S"): _name(kind)})
    action.update({_name(f"/{key}"): value for key, value in entries.items()})
    return action


def _javascript(code: str = "app.alert('hi')") -> DictionaryObject:
    return _action("/JavaScript", JS=TextStringObject(code))


def _link(writer: PdfWriter, action: DictionaryObject) -> None:
    """A link annotation over the page's corner that runs ``action`` when clicked."""
    annotation = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
        _name("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 100, 30)]),
        _name("/Border"): ArrayObject([NumberObject(0)] * 3),
        _name("/A"): writer._add_object(action),
    })
    page = writer.pages[0]
    page[_name("/Annots")] = ArrayObject([writer._add_object(annotation)])


def _document_javascript(writer: PdfWriter) -> None:
    """What ``add_js`` wrote: a script in the document-level /Names /JavaScript tree."""
    tree = DictionaryObject({_name("/Names"): ArrayObject([
        TextStringObject("init"), writer._add_object(_javascript())])})
    writer._root_object[_name("/Names")] = DictionaryObject(
        {_name("/JavaScript"): writer._add_object(tree)})


def _open_action_javascript(writer: PdfWriter) -> None:
    writer._root_object[_name("/OpenAction")] = writer._add_object(_javascript())


def _open_action_chain(writer: PdfWriter) -> None:
    """A harmless-looking /GoTo on opening whose /Next runs a script."""
    go_to = _action("/GoTo", D=ArrayObject([writer.pages[0].indirect_reference,
                                            _name("/Fit")]), Next=_javascript())
    writer._root_object[_name("/OpenAction")] = writer._add_object(go_to)


def _page_additional_action(writer: PdfWriter) -> None:
    writer.pages[0][_name("/AA")] = DictionaryObject({_name("/O"): _javascript()})


def _catalog_additional_action(writer: PdfWriter) -> None:
    writer._root_object[_name("/AA")] = DictionaryObject({_name("/WP"): _javascript()})


def _attachment(writer: PdfWriter) -> None:
    writer.add_attachment("payload.exe", b"MZ\x90\x00 not a document")


def _launch(writer: PdfWriter) -> None:
    _link(writer, _action("/Launch", F=TextStringObject("cmd.exe")))


def _launch_on_open(writer: PdfWriter) -> None:
    writer._root_object[_name("/OpenAction")] = writer._add_object(
        _action("/Launch", F=TextStringObject("calc.exe")))


def _xfa(writer: PdfWriter) -> None:
    writer._root_object[_name("/AcroForm")] = DictionaryObject({
        _name("/Fields"): ArrayObject(),
        _name("/XFA"): writer._add_object(TextStringObject("<xdp:xdp/>")),
    })


def _form_field_script(writer: PdfWriter) -> None:
    """A text field that runs a script when its value is formatted."""
    field = DictionaryObject({
        _name("/FT"): _name("/Tx"), _name("/T"): TextStringObject("amount"),
        _name("/AA"): DictionaryObject({_name("/F"): _javascript()}),
    })
    writer._root_object[_name("/AcroForm")] = DictionaryObject(
        {_name("/Fields"): ArrayObject([writer._add_object(field)])})


def _rich_media(writer: PdfWriter) -> None:
    annotation = DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/RichMedia"),
        _name("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 100, 100)]),
    })
    writer.pages[0][_name("/Annots")] = ArrayObject([writer._add_object(annotation)])


def _pdf(change: Callable[[PdfWriter], None] | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if change:
        change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _hex_escaped_javascript() -> bytes:
    """/S /JavaScript /JS (...) on opening, each name spelt with a #xx escape."""
    return hand_written_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>")


MALICIOUS: dict[str, Callable[[], bytes]] = {
    **{case: partial(_pdf, change) for case, change in {
        "document JavaScript (names tree)": _document_javascript,
        "OpenAction running JavaScript": _open_action_javascript,
        "OpenAction GoTo chained to JavaScript": _open_action_chain,
        "page additional action": _page_additional_action,
        "document additional action": _catalog_additional_action,
        "embedded file": _attachment,
        "Launch link": _launch,
        "Launch on opening": _launch_on_open,
        "AcroForm with XFA": _xfa,
        "form field script": _form_field_script,
        "RichMedia annotation": _rich_media,
    }.items()},
    "hex-escaped JavaScript name": _hex_escaped_javascript,
}


def _stored_documents(app) -> list[str]:
    with app.app_context():
        folder = upload_root() / DOCUMENT_FOLDER
        return sorted(os.listdir(folder)) if folder.exists() else []


def _upload(app, login_as, content: bytes, lang: str = "zh"):
    contract_id = make_contract(app, make_supplier(app), make_category(app))
    staff = login_as("staff")
    page = f"/suppliers/contracts/{contract_id}"
    response = staff.post(f"{page}/upload?lang={lang}", data={
        **form_data(staff, page), "document": (io.BytesIO(content), "合同.pdf")},
        content_type="multipart/form-data")
    return response, contract_id


@pytest.mark.parametrize("case", MALICIOUS)
def test_a_pdf_with_active_content_is_refused_beside_the_field_and_nothing_is_stored(
        app, login_as, case):
    content = MALICIOUS[case]()
    before = _stored_documents(app)
    response, contract_id = _upload(app, login_as, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html[html.index('id="document-error"'):]
    assert REFUSED_ZH in error[:300]
    assert _stored_documents(app) == before
    with app.app_context():
        contract = db.session.get(ServiceContract, contract_id)
        assert contract.document_file is None and not contract.document_file_label


def test_the_refusal_is_in_english_too(app, login_as):
    response, _ = _upload(app, login_as, _pdf(_document_javascript), lang="en")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert REFUSED_EN in html[html.index('id="document-error"'):][:300]


def test_an_integrity_agreement_with_a_script_is_refused_too(app, login_as):
    supplier_id = make_supplier(app)
    staff = login_as("staff")
    page = f"/suppliers/{supplier_id}"
    response = staff.post(f"{page}/integrity", data={
        **form_data(staff, page), "document": (io.BytesIO(_pdf(_launch)), "廉政协议.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert REFUSED_ZH in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Supplier, supplier_id).integrity_file is None


def _web_link(writer: PdfWriter) -> None:
    _link(writer, _action("/URI", URI=TextStringObject("https://www.example.gov.cn/")))


def _open_on_page(writer: PdfWriter) -> None:
    """/OpenAction as a plain destination array: open on the first page, fitted."""
    writer._root_object[_name("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, _name("/Fit")])


def _open_with_go_to(writer: PdfWriter) -> None:
    writer._root_object[_name("/OpenAction")] = writer._add_object(_action(
        "/GoTo", D=ArrayObject([writer.pages[0].indirect_reference, _name("/Fit")])))


def _go_to_loop(writer: PdfWriter) -> None:
    """A /GoTo on opening whose /Next is itself: harmless, and the walk must end."""
    go_to = _action("/GoTo", D=ArrayObject([writer.pages[0].indirect_reference, _name("/Fit")]))
    reference = writer._add_object(go_to)
    go_to[_name("/Next")] = reference
    writer._root_object[_name("/OpenAction")] = reference


CLEAN: dict[str, Callable[[], bytes]] = {
    "plain": _pdf,
    "web link": partial(_pdf, _web_link),
    "opens on a page": partial(_pdf, _open_on_page),
    "GoTo action on open": partial(_pdf, _open_with_go_to),
    "GoTo chain looping on itself": partial(_pdf, _go_to_loop),
    "hand-written (the smoke test's)": hand_written_pdf,
}


@pytest.mark.parametrize("case", CLEAN)
def test_a_pdf_without_active_content_is_accepted(app, login_as, case):
    before = _stored_documents(app)
    response, contract_id = _upload(app, login_as, CLEAN[case]())
    assert response.status_code == 303
    with app.app_context():
        name = db.session.get(ServiceContract, contract_id).document_file
    assert name and name.endswith(".pdf")
    assert _stored_documents(app) == sorted([*before, name])
