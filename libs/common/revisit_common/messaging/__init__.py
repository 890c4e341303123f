"""Messaging plumbing: events from a service's transaction to another service's handlers.

- :mod:`.outbox`: the writer, events as rows in the state change's transaction;
- :mod:`.relay`: publishes unsent rows and marks them sent once confirmed;
- :mod:`.publisher`: the one ``publish`` interface; behind it :mod:`.amqp_publisher` (a
  window of publisher confirms, pika) and :mod:`.memory_publisher` (standalone), with
  :mod:`.confirm_window` (confirm bookkeeping) and :mod:`.listener` (NOTIFY wake-up);
- :mod:`.consumer`: decode, claim, apply, commit, ack, one batch at a time (a single
  message is a batch of one), :mod:`.dead_letters` for what it gives up on;
- :mod:`.inbox`: the ids of applied events (exactly-once effect);
- :mod:`.registry`: event type → handler, the routing keys derived from it, and the
  decoding of the fields a handler declares into a typed event;
- :mod:`.envelope` (CloudEvents), :mod:`.topology` (exchanges, queues, bindings),
  :mod:`.bus` (where events travel), :mod:`.settlement` (delivery on the in-memory bus).
"""
