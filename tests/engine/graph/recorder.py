"""A document listener for tests: the events a Network sends, in order."""


class Recorder:
    """A listener that keeps ``(event, payload)`` pairs."""

    def __init__(self, network):
        self.events = []
        network.subscribe(self)

    def __call__(self, event, payload):
        self.events.append((event, payload))

    def names(self):
        return [event for event, _ in self.events]

    def clear(self):
        self.events.clear()

    def group_events(self):
        return [(event, payload.id) for event, payload in self.events if event.startswith("group_")]
