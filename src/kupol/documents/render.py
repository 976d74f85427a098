"""Protocols and resolutions rendered to PDF, in Russian or Kazakh (fpdf2, DejaVu fonts).

The same content always gives the same bytes (the PDF's dates and identifier come from the
document, not the clock), so an officer who signs on their own device signs exactly what the
server would. The document's record (canonical JSON) travels inside the PDF as an attached
file, uncompressed: the signature over the PDF covers it, and verification finds the record's
exact bytes in the signed file without re-rendering (so a font or library upgrade does not
make old documents look altered).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from kupol.core.errors import ConfigError

LANGUAGES = ("ru", "kk")
KINDS = ("protocol", "resolution")
RECORD_NAME = "kupol-document.json"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"))

TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "protocol": "ПРОТОКОЛ\nоб административном правонарушении",
        "resolution": "ПОСТАНОВЛЕНИЕ\nпо делу об административном правонарушении",
        "number": "№",
        "date": "Дата и время составления",
        "occurred": "Дата и время правонарушения",
        "place": "Место",
        "officer": "Должностное лицо",
        "person": "Лицо, в отношении которого ведётся производство",
        "person_id": "ИИН/БИН",
        "address": "Адрес",
        "vehicle": "Транспортное средство, государственный номер",
        "article": "Квалификация",
        "article_text": "статья {article}{part} Кодекса Республики Казахстан об "
        "административных правонарушениях",
        "part": ", часть {part}",
        "fine": "Административное взыскание",
        "fine_text": "штраф {mrp} МРП ({tenge} тенге)",
        "facts": "Обстоятельства",
        "evidence": "Доказательства (файлы хранилища, SHA-256)",
        "case": "Дело",
        "incident": "Происшествие",
        "signature": "Документ подписывается электронной цифровой подписью должностного "
        "лица; подпись проверяется по сертификату и хешу SHA-256 этого файла.",
        "none": "—",
    },
    "kk": {
        "protocol": "Әкімшілік құқық бұзушылық туралы\nХАТТАМА",
        "resolution": "Әкімшілік құқық бұзушылық туралы іс бойынша\nҚАУЛЫ",
        "number": "№",
        "date": "Жасалған күні мен уақыты",
        "occurred": "Құқық бұзушылық жасалған күні мен уақыты",
        "place": "Орны",
        "officer": "Лауазымды адам",
        "person": "Іс жүргізілетін тұлға",
        "person_id": "ЖСН/БСН",
        "address": "Мекенжайы",
        "vehicle": "Көлік құралы, мемлекеттік нөмірі",
        "article": "Саралау",
        "article_text": "Қазақстан Республикасының Әкімшілік құқық бұзушылық туралы "
        "кодексінің {article}-бабы{part}",
        "part": ", {part}-бөлігі",
        "fine": "Әкімшілік жаза",
        "fine_text": "айыппұл {mrp} АЕК ({tenge} теңге)",
        "facts": "Мән-жайлар",
        "evidence": "Дәлелдемелер (қойма файлдары, SHA-256)",
        "case": "Іс",
        "incident": "Оқиға",
        "signature": "Құжатқа лауазымды адамның электрондық цифрлық қолтаңбасы қойылады; "
        "қолтаңба сертификат пен осы файлдың SHA-256 хеші бойынша тексеріледі.",
        "none": "—",
    },
}


def canonical(content: dict[str, Any]) -> bytes:
    """The document's record as embedded in its PDF: canonical JSON, ASCII, so its bytes
    appear verbatim in the file and a signature over the PDF covers the record too."""
    return json.dumps(content, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def font_files() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold (they cover Kazakh Cyrillic: ә ғ қ ң ө ұ ү һ і)."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise ConfigError(
        "documents need the DejaVu Sans fonts (Debian: apt-get install fonts-dejavu-core); "
        f"looked in {', '.join(map(str, FONT_DIRS))}"
    )


def _when(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M (UTC%z)")


def render_pdf(content: dict[str, Any]) -> bytes:
    """The PDF of a document's ``content`` (see :mod:`kupol.documents.service`)."""
    text = TEXT[content["language"]]
    created = datetime.fromisoformat(content["date"])
    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    digest = hashlib.md5(content["number"].encode(), usedforsecurity=False).hexdigest()
    pdf.file_id = lambda: f"<{digest}><{digest}>"  # type: ignore[method-assign]
    pdf.set_title(f"{content['kind']} {content['number']}")
    pdf.set_author(str(content.get("officer") or ""))
    pdf.set_creator("kupol")
    pdf.set_producer("kupol")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.embed_file(
        bytes=canonical(content),
        basename=RECORD_NAME,
        desc="the document's record, as signed",
        mime_type="application/json",
        creation_date=created,
        modification_date=created,
    )
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, text[content["kind"]], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 8, f"{text['number']} {content['number']}", align="C")
    pdf.ln(12)

    def field(label: str, value: str) -> None:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 5.5, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5.5, value or text["none"], new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    person = content.get("person") or {}
    vehicle = content.get("vehicle") or {}
    field(text["date"], _when(content["date"]))
    field(text["occurred"], _when(content.get("occurred_at")))
    field(text["place"], str(content.get("place") or ""))
    field(text["officer"], str(content.get("officer") or ""))
    if content.get("case_number"):
        field(text["case"], str(content["case_number"]))
    if content.get("incident"):
        field(text["incident"], str(content["incident"]))
    who = person.get("name") or ""
    if person.get("id"):
        who += f"\n{text['person_id']}: {person['id']}"
    if person.get("address"):
        who += f"\n{text['address']}: {person['address']}"
    field(text["person"], who)
    if vehicle:
        field(
            text["vehicle"],
            " ".join(str(v) for v in (vehicle.get("plate"), vehicle.get("make")) if v),
        )
    part = text["part"].format(part=content["part"]) if content.get("part") else ""
    qualification = text["article_text"].format(article=content["article"], part=part)
    if content.get("title"):
        qualification += f"\n«{content['title']}»"
    field(text["article"], qualification)
    if content.get("fine_mrp"):
        fine = text["fine_text"].format(
            mrp=f"{content['fine_mrp']:g}",
            tenge=f"{content.get('fine_tenge', 0):,}".replace(",", " "),
        )
        field(text["fine"], fine)
    field(text["facts"], str(content.get("facts") or ""))
    evidence = content.get("evidence") or []
    if evidence:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 5.5, text["evidence"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        for item in evidence:
            pdf.multi_cell(
                0,
                4.5,
                f"• {item.get('label', '')}: {item.get('sha256', '')}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.ln(2)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4.5, text["signature"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
