"""The printable notice to the registered owner (HTML, Russian, the language of such notices
in Kazakhstan): what was found, where and when, the article and the fine with the MRP of the
day, the discount and its last day, the evidence's checksums and the officer's signature."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kupol.traffic.notices import NoticeView

OFFENCES = {
    "speeding": "превышение установленной скорости движения",
    "red_light": "проезд на запрещающий сигнал светофора",
    "failing_to_yield_to_pedestrian": "непредоставление преимущества пешеходу",
    "scooter_speeding": "движение на электросамокате со скоростью более 25 км/ч",
    "scooter_sidewalk_speeding": "движение на электросамокате по тротуару быстрее 6 км/ч",
    "scooter_passenger": "перевозка пассажира на электросамокате",
}


def _tenge(value: int | None) -> str:
    return "—" if value is None else f"{value:,}".replace(",", " ") + " ₸"


def letter_html(
    notice: NoticeView,
    *,
    camera_name: str,
    latitude: float,
    longitude: float,
    measured: dict[str, Any],
    signed: dict[str, Any] | None,
    zone: ZoneInfo,
) -> str:
    """The notice as a self-contained HTML page."""
    e = html.escape
    local: datetime = notice.occurred_at.astimezone(zone)
    document = (signed or {}).get("document", {})
    sums = document.get("evidence_sha256") or []
    facts = ", ".join(f"{e(str(k))}: {e(str(v))}" for k, v in measured.items())
    rows = [
        ("Номер постановления", notice.number),
        ("Дата вынесения", notice.issued_on.strftime("%d.%m.%Y")),
        ("Собственник", notice.owner_name or "не установлен"),
        ("ИИН/БИН", notice.owner_id or "—"),
        ("Адрес", notice.address or "—"),
        ("Государственный номер", notice.plate),
        ("Нарушение", OFFENCES.get(notice.offence, notice.offence)),
        (
            "Статья КоАП РК",
            f"ст. {notice.article}" + (f", ч. {notice.part}" if notice.part else ""),
        ),
        ("Дата и время", local.strftime("%d.%m.%Y %H:%M:%S") + f" ({zone.key})"),
        ("Место", f"{camera_name} ({latitude:.5f}, {longitude:.5f})"),
        ("Измерено", facts or "—"),
        ("Сумма штрафа", _tenge(notice.amount_tenge)),
    ]
    if notice.discounted_tenge is not None and notice.discount_until is not None:
        rows.append(
            (
                "При оплате до " + notice.discount_until.strftime("%d.%m.%Y"),
                _tenge(notice.discounted_tenge) + " (50 %)",
            )
        )
    payment = {
        "unpaid": "не оплачено",
        "paid": "оплачено",
        "cancelled": "отменено",
        "refunded": "возвращено (постановление отменено)",
    }
    rows.append(("Статус оплаты", payment.get(notice.payment, notice.payment)))
    table = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    evidence = "\n".join(f"<li><code>{e(str(s))}</code></li>" for s in sums)
    if signed:
        officer, when = document.get("officer", "—"), document.get("decided_at", "—")
        algorithm = signed.get("algorithm")
        by = (
            f"сертификат {signed.get('signer')}, SHA-256 {signed.get('certificate_sha256')}"
            if signed.get("certificate_sha256")
            else f"ключ {signed.get('key_id')}"
        )
        signature = (
            f"<p>Решение принято: {e(str(officer))}, {e(str(when))}.<br>"
            f"Электронная цифровая подпись ({e(str(algorithm))}, {e(by)}): "
            f"<code>{e(str(signed.get('signature')))}</code></p>"
        )
    else:
        signature = "<p>Решение не подписано.</p>"
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{e(notice.number)}</title>
<style>body{{font:14px/1.45 sans-serif;max-width:760px;margin:24px auto;color:#111}}
th{{text-align:left;padding:4px 12px 4px 0;vertical-align:top;color:#444;font-weight:600}}
td{{padding:4px 0}}code{{font-size:11px;word-break:break-all}}</style></head><body>
<h1>Постановление по делу об административном правонарушении</h1>
<p>Нарушение зафиксировано специальным техническим средством фото- и видеосъёмки и
рассмотрено уполномоченным должностным лицом.</p>
<table>{table}</table>
<h2>Доказательства</h2>
<p>Контрольные суммы SHA-256 файлов фото- и видеофиксации:</p>
<ul>{evidence or "<li>—</li>"}</ul>
{signature}
</body></html>
"""
