"""The one list of domains. A new product is a package exporting `DOMAIN` and one line here."""

from __future__ import annotations

from collab.accounts import DOMAIN as ACCOUNTS
from collab.boards import DOMAIN as BOARDS
from collab.community import DOMAIN as COMMUNITY
from collab.domain import Domain
from collab.library import DOMAIN as LIBRARY
from collab.notifications import DOMAIN as NOTIFICATIONS
from collab.rooms import DOMAIN as ROOMS
from collab.webinars import DOMAIN as WEBINARS

DOMAINS: list[Domain] = [
    ACCOUNTS,  # first: the others' seed data is written by its demo users
    ROOMS,
    BOARDS,
    WEBINARS,
    LIBRARY,
    COMMUNITY,  # after the library: profiles name its topics
    NOTIFICATIONS,  # the core's notifications: no nav, no seed; its tables last
]
