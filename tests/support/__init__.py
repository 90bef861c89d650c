"""Test infrastructure: throwaway services, live servers, protocol clients.

Nothing here imports `collab`: the integration tests drive the server from outside, as a client
author would, so they keep working whatever the application's internals look like.
"""
