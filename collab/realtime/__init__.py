"""The real-time hub. It knows no domain: domains plug in channel kinds and write through its doors.

This is everything a domain may import from `realtime`.
"""

from .channels import Ack, Actor, Call, ChannelKind, handles
from .door import Also, Change, Redaction, Step, Stmt, Written
from .events import Event
from .hub import Hub, Position

__all__ = ["Ack", "Actor", "Also", "Call", "Change", "ChannelKind", "Event", "Hub", "Position",
           "Redaction", "Step", "Stmt", "Written", "handles"]
