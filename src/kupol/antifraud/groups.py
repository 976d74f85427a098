"""Exposing organised groups: a graph of the numbers call screening caught, the SIM cards
(IMSIs) and handsets (IMEIs) behind them and the cells they worked from; each group with the
evidence for it.

Only numbers blocked at least once for their *behaviour* enter the graph (fan-out, call
centre, Wangiri, SIM-box; not a spoof, which says nothing of the number's owner, and not a
warning, which ordinary businesses get) — nor do their victims, or one subscriber rung by two
gangs would join them. Edges: a number to its SIM, a SIM to the handset it sat in, a number to
a cell it worked from. A group is a connected part of that graph: numbers tied by a shared SIM
or handset (a SIM-box, a phone bank), or by working from one cell (at least ``CELL_CALLS``
calls each from it — an office; a number passing through a cell does not tie). Parts over
``SPLIT_ABOVE`` nodes are split into communities (Louvain, networkx, seeded). A group must hold
at least two numbers, or one number with more than one SIM or handset, or one number and an
account its victims paid (below). Every tie is evidence an analyst can check: the group lists
its SIMs, handsets and cells.

The **money trail** is laid on the groups afterwards, so that it never changes what the
network ties found (an account shared by two large gangs would otherwise merge them past the
split and scatter both): each transfer a bank asked about right after its payer was rung by
suspicious numbers (:class:`Payment`) is tied to the latest of them that is a flagged number —
the one taken to have talked the payer into it — and its account joins that number's group
(``accounts``, ``payments``, ``amounts`` by currency and status, ``number–account`` edges).
Groups whose victims paid one account are listed as ``linked`` to each other: likely one
organisation, shown as such rather than merged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from kupol.antifraud.cdr import CdrRow
from kupol.antifraud.screening import Screened, Verdict

BEHAVIOUR = frozenset({"fan_out_heavy", "call_centre", "wangiri", "simbox_imei", "sequential_imsi"})
"""Block reasons that speak of who is calling (not of a forged or listed number)."""
CELL_CALLS = 10
"""Calls from one cell that tie a number to it (it worked from there)."""
SPLIT_ABOVE = 300
"""Groups larger than this many nodes are split into communities (Louvain)."""


@dataclass
class _NumberEvidence:
    calls: int = 0
    blocked: int = 0
    warned: int = 0
    callees: set[str] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    sources: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, kw_only=True)
class AskedTransfer:
    """A transfer a bank asked about: where the money was to go, and the check's state."""

    account: str
    """The payee."""
    amount: float
    currency: str
    at: datetime
    status: str
    """The check's status: ``held``, ``released``, ``cancelled`` or ``allowed``."""
    check_id: int


@dataclass(frozen=True, kw_only=True)
class Payment(AskedTransfer):
    """A transfer whose payer was rung just before by ``callers``."""

    callers: tuple[str, ...]
    """The suspicious numbers (E.164) that rang the payer shortly before, the latest last."""


@dataclass(frozen=True, kw_only=True)
class Trail(AskedTransfer):
    """A transfer tied to a group: which of its numbers rang the payer last."""

    caller: str


@dataclass(frozen=True, kw_only=True)
class FraudGroup:
    """One group and the evidence for it."""

    id: int
    numbers: list[str]
    sims: list[str]
    handsets: list[str]
    cells: list[str]
    calls: int
    blocked: int
    warned: int
    distinct_callees: int
    reasons: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None
    score: float
    """Calls blocked or warned, per member number: how hard the evidence is."""
    sources: dict[str, int] = field(default_factory=dict)
    """In simulated data: which simulated parties made the group's calls."""
    edges: list[tuple[str, str]] = field(default_factory=list)
    """The ties, as ``kind:value`` pairs (``number:+7…``, ``sim:…``, ``handset:…``,
    ``cell:…``, ``account:…``): each one an analyst can check."""
    accounts: list[str] = field(default_factory=list)
    """Accounts the group's victims were asked to pay (the money trail)."""
    payments: list[Trail] = field(default_factory=list)
    """The transfers behind those ties, oldest first."""
    amounts: dict[str, dict[str, float]] = field(default_factory=dict)
    """Their amounts by currency and the hold's status (``held``; ``released``: the payer
    confirmed it or the hold ran out; ``cancelled``: stopped)."""
    linked: list[int] = field(default_factory=list)
    """Other groups whose victims paid one of the same accounts."""


def find_groups(
    rows: Sequence[CdrRow],
    verdicts: Sequence[Screened],
    *,
    payments: Sequence[Payment] = (),
    seed: int = 0,
) -> list[FraudGroup]:
    """Groups among the flagged numbers of screened rows, strongest evidence first;
    ``payments`` tie numbers to the accounts their victims paid."""
    import networkx as nx

    evidence: dict[str, _NumberEvidence] = defaultdict(_NumberEvidence)
    flagged: set[str] = set()
    for row, verdict in zip(rows, verdicts, strict=True):
        number = verdict.caller.e164
        e = evidence[number]
        e.calls += 1
        e.callees.add(row.attempt.called)
        e.reasons.update(verdict.reasons)
        at = row.attempt.at
        e.first = at if e.first is None or at < e.first else e.first
        e.last = at if e.last is None or at > e.last else e.last
        if row.source:
            e.sources[row.source] += 1
        if verdict.verdict is Verdict.BLOCK:
            e.blocked += 1
            if BEHAVIOUR.intersection(verdict.reasons):
                flagged.add(number)
        elif verdict.verdict is Verdict.WARN:
            e.warned += 1
    graph = nx.Graph()
    from_cell: Counter[tuple[str, str]] = Counter()
    for row, verdict in zip(rows, verdicts, strict=True):
        number = verdict.caller.e164
        if number not in flagged:
            continue
        a = row.attempt
        graph.add_node(("number", number))
        if a.imsi:
            graph.add_edge(("number", number), ("sim", a.imsi))
            if a.imei:
                graph.add_edge(("sim", a.imsi), ("handset", a.imei))
        elif a.imei:
            graph.add_edge(("number", number), ("handset", a.imei))
        if a.cell:
            from_cell[(number, a.cell)] += 1
    for (number, cell), calls in from_cell.items():
        if calls >= CELL_CALLS:  # worked from there, not passed through
            graph.add_edge(("number", number), ("cell", cell))
    trail: dict[str, list[Trail]] = defaultdict(list)  # by the number that rang last
    for p in payments:
        caller = next((c for c in reversed(p.callers) if c in flagged), None)
        if caller is not None:
            asked = {f.name: getattr(p, f.name) for f in fields(AskedTransfer)}
            trail[caller].append(Trail(caller=caller, **asked))
    groups = []
    for component in nx.connected_components(graph):
        parts = [component]
        if len(component) > SPLIT_ABOVE:
            parts = nx.community.louvain_communities(graph.subgraph(component), seed=seed)
        for members in parts:
            kinds: dict[str, list[str]] = defaultdict(list)
            for kind, value in members:
                kinds[kind].append(value)
            numbers = sorted(kinds["number"])
            if not numbers:
                continue
            paid = sorted((t for n in numbers for t in trail[n]), key=lambda t: (t.at, t.check_id))
            alone = len(numbers) < 2 and len(kinds["sim"]) < 2 and len(kinds["handset"]) < 2
            if alone and not paid:
                continue
            group = _group(numbers, kinds, evidence)
            ties = sorted(
                tuple(sorted((f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}")))
                for a, b in graph.subgraph(members).edges()
            )
            ties = sorted({*ties, *((f"account:{t.account}", f"number:{t.caller}") for t in paid)})
            amounts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            for t in paid:
                amounts[t.currency][t.status] += t.amount
            groups.append(
                FraudGroup(
                    **{**group.__dict__, "edges": ties,
                       "accounts": sorted({t.account for t in paid}), "payments": paid,
                       "amounts": {c: {k: round(v, 2) for k, v in sorted(by.items())}
                                   for c, by in sorted(amounts.items())}}
                )
            )  # fmt: skip
    groups.sort(key=lambda g: (-g.score, -g.calls, g.numbers[0]))
    groups = [FraudGroup(**{**g.__dict__, "id": i + 1}) for i, g in enumerate(groups)]
    paying: dict[str, set[int]] = defaultdict(set)
    for g in groups:
        for account in g.accounts:
            paying[account].add(g.id)
    return [
        FraudGroup(
            **{**g.__dict__, "linked": sorted({i for a in g.accounts for i in paying[a]} - {g.id})}
        )
        for g in groups
    ]


def _group(
    numbers: list[str], kinds: dict[str, list[str]], evidence: dict[str, _NumberEvidence]
) -> FraudGroup:
    items = [evidence[n] for n in numbers]
    reasons: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    callees: set[str] = set()
    for e in items:
        reasons.update(e.reasons)
        sources.update(e.sources)
        callees |= e.callees
    firsts = [e.first for e in items if e.first]
    lasts = [e.last for e in items if e.last]
    blocked = sum(e.blocked for e in items)
    warned = sum(e.warned for e in items)
    return FraudGroup(
        id=0, numbers=numbers, sims=sorted(kinds["sim"]), handsets=sorted(kinds["handset"]),
        cells=sorted(kinds["cell"]), calls=sum(e.calls for e in items), blocked=blocked,
        warned=warned, distinct_callees=len(callees), reasons=dict(reasons.most_common()),
        first_seen=min(firsts) if firsts else None, last_seen=max(lasts) if lasts else None,
        score=round((blocked + warned) / len(numbers), 2), sources=dict(sources.most_common()),
    )  # fmt: skip


def purity(groups: Iterable[FraudGroup]) -> dict[str, Any]:
    """For simulated data: how well groups match the parties that made the calls — each
    group's largest source share, and how many groups each fraud party was split into."""
    shares = []
    parties: dict[str, set[int]] = defaultdict(set)
    for g in groups:
        total = sum(g.sources.values())
        if total:
            shares.append(max(g.sources.values()) / total)
        for source in g.sources:
            parties[source].add(g.id)
    return {
        "groups": len(shares),
        "mean_purity": round(sum(shares) / len(shares), 4) if shares else None,
        "groups_per_party": {p: len(ids) for p, ids in sorted(parties.items())},
    }
