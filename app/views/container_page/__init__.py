"""The container page: one container's header, actions and tabs (Logs, Terminal, Stats, Inspect,
Files), opened from the Containers view (Enter, double-click, or the details pane's button).

- :mod:`.tab` — the protocol every tab follows (``PageTab``);
- :mod:`.page` — the page: header, the one tab list, the engine-event subscription that feeds
  every tab a fresh inspect (or ``None`` once the container is removed);
- :mod:`.header` — name, image, state with uptime or exit code, port links, actions;
- :mod:`.commit_dialog` — "Commit to image…";
- :mod:`.inspect_tab` / :mod:`.inspect_tree` — the searchable, collapsible inspect document.

Import the page from :mod:`.page` (this package imports nothing, so a tab module can be loaded
on its own).
"""
