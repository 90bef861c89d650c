"""The demo library's builders: one function per kind of entry, written for collab.

The entries themselves are in seed_cases.py (case studies) and seed_writing.py (articles and
papers).

Places, people and papers are invented (DOIs use the 10.5555 test prefix); the practice they
describe is what public-sector teams report. Most entries are published through the review
workflow by the demo expert; a few stay in the works so the queue and "my drafts" show
something: a draft, one waiting for a reviewer, one with changes requested, and one published
entry with its next revision in review.
"""

from __future__ import annotations

from typing import Any

REVIEWER = "sam.okafor"


def article(author: str, title: str, summary: str, topics: list[str], body: str,
            **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {"kind": "article", "title": title, "summary": summary,
                                       "topics": topics, "body": body}, **extra}


def case(author: str, title: str, summary: str, topics: list[str], *, jurisdiction: str,
         level: str, year: int, problem: str, actions: str, outcomes: list[tuple[str, Any, str]],
         body: str, lessons: str, contacts: list[str], **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {
        "kind": "case_study", "title": title, "summary": summary, "topics": topics,
        "jurisdiction": jurisdiction, "level": level, "year": year, "problem": problem,
        "actions": actions, "body": body, "lessons": lessons, "contacts": contacts,
        "outcomes": [{"label": label, "value": value, "unit": unit}
                     for label, value, unit in outcomes]}, **extra}


def paper(author: str, title: str, summary: str, topics: list[str], *, authors: list[str],
          year: int, publisher: str, doi: str, abstract: str, body: str = "",
          **extra: Any) -> dict[str, Any]:
    return {"author": author, "data": {
        "kind": "paper", "title": title, "summary": summary, "topics": topics,
        "authors": authors, "year": year, "publisher": publisher, "doi": doi,
        "abstract": abstract, "body": body}, **extra}

