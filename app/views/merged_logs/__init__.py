"""The merged logs view: the logs of a Compose project or any selection of containers in one
time-ordered stream, each line tagged and coloured by its container, filterable by container.

- :mod:`.merge` — the time-ordered bounded buffer (pure);
- :mod:`.window` — the window: one :class:`~app.views.container_page.logs.follower.LogFollower`
  per container feeding the buffer, the shared :class:`~app.views.container_page.logs.view.LogView`
  and search bar, a check box per container.

Opened from the Containers view ("View logs together" on a selection or a Compose group):
:func:`.window.open_merged_logs`.
"""
