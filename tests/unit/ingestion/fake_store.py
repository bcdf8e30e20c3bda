"""`InMemoryConversationStore`: the `ConversationStore` protocol in memory, with the same keys
and the same conditions as `DynamoDBConversationStore`."""

from __future__ import annotations

from chalicelib.ingestion.dynamodb_store import (
    message_sort_key,
    reaction_sort_key,
    receipt_sort_key,
)
from chalicelib.ingestion.store import StoredMessage, StoredReaction, StoredReceipt


class InMemoryConversationStore:
    """Items by (conversation id, sort key), plus the set of stored mids (the guard items)."""

    def __init__(self) -> None:
        self._messages: dict[tuple[str, str], StoredMessage] = {}
        self._receipts: dict[tuple[str, str], StoredReceipt] = {}
        self._reactions: dict[tuple[str, str], StoredReaction] = {}
        self._mids: set[str] = set()
        self.writes = 0

    def add_message(self, message: StoredMessage) -> bool:
        self.writes += 1
        key = (message.conversation_id, message_sort_key(message.timestamp, message.mid))
        if message.mid in self._mids or key in self._messages:
            return False
        self._mids.add(message.mid)
        self._messages[key] = message
        return True

    def record_receipt(self, receipt: StoredReceipt) -> bool:
        self.writes += 1
        key = (receipt.conversation_id, receipt_sort_key(receipt))
        if key in self._receipts:
            return False
        self._receipts[key] = receipt
        return True

    def record_reaction(self, reaction: StoredReaction) -> bool:
        self.writes += 1
        key = (reaction.conversation_id, reaction_sort_key(reaction.mid, reaction.reactor_id))
        current = self._reactions.get(key)
        if current is not None and current.timestamp >= reaction.timestamp:
            return False
        self._reactions[key] = reaction
        return True

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        return [m for (c, _), m in sorted(self._messages.items()) if c == conversation_id]

    def receipts(self, conversation_id: str) -> list[StoredReceipt]:
        return [r for (c, _), r in sorted(self._receipts.items()) if c == conversation_id]

    def reactions(self, conversation_id: str) -> list[StoredReaction]:
        return [r for (c, _), r in sorted(self._reactions.items()) if c == conversation_id]
