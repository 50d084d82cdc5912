"""The unit of work every use case takes: one session, one commit at the end, network calls only
after it (storage/uow.py implements it). Flows and jobs name it from here."""

from __future__ import annotations

from storage.uow import UnitOfWork as UnitOfWork
