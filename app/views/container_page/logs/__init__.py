"""The Logs tab of the container page, and the parts the merged logs view shares with it.

- :mod:`.buffer` — the bounded line store (the cap) and what is waiting to be drawn (pure);
- :mod:`.canvas` — paints only the rows on screen from the buffer: stderr/ANSI/notice formats,
  follow that pauses when scrolled up, search highlights, the selection drawn;
- :mod:`.view` — :class:`~.view.LogView`, the canvas plus mouse, keys, selection, copy and
  search steps (what the tab and the merged window use);
- :mod:`.accessible` — what screen readers get from the view (its name, the rows on screen);
- :mod:`.search` — the search bar (case, regex, match count, next/previous, only matching lines);
- :mod:`.follower` — one container's log streams: the first tail, restarts, stops, "load earlier";
- :mod:`.tab` — :class:`~.tab.LogsTab`, the tab itself (toolbar, save, copy, clear).

Lines come from :func:`engine.log_stream.stream_logs` as ``(timestamp, stream, text)`` tuples
(``(timestamp, stream, text, source)`` in the merged view); stream 0 is a notice of ours
("the container stopped"), never saved as log output.
"""
