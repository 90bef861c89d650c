"""The real-time hub. It knows no domain: domains plug in channel kinds and write through its doors.

This is everything a domain may import from `realtime`.
"""

from .channels import Ack, Actor, Call, ChannelKind, handles
from .door import Also, Change, Redaction, Step, Stmt, Written
from .events import Event
from .hub import Hub, Position
from .presence import HEAD as PRESENCE_HEAD
from .presence import Present

__all__ = ["PRESENCE_HEAD", "Ack", "Actor", "Also", "Call", "Change", "ChannelKind", "Event",
           "Hub", "Position", "Present", "Redaction", "Step", "Stmt", "Written", "handles"]
