"""The offline conversation engine: intent routing, slot filling, confirmation, answers."""
