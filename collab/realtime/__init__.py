"""The real-time hub. It knows no domain: domains register ChannelKind classes with it."""

from .channels import Ack, Actor, ChannelKind, int_id, split_channel
from .events import Event
from .hub import Hub

__all__ = ["Ack", "Actor", "ChannelKind", "Event", "Hub", "int_id", "split_channel"]
