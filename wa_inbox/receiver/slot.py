"""Where the receiver's endpoints find the store: given to `create_app`, or opened by its lifespan."""

from __future__ import annotations

from wa_inbox.store import Store


class StoreSlot:
    """The store the endpoints write to: given, or opened by the app's lifespan."""

    def __init__(self, store: Store | None) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the receiver's lifespan has not opened the store")
        return self._store

    @store.setter
    def store(self, store: Store) -> None:
        self._store = store
