"""Several engines in one window (issue 12): the list, the switcher and the add/edit dialog.

Data flow::

    engine.engines.list_engines() ──► EnginesModel (rows) ──probe() per row on the loop──► state,
                                                                     version, OS/arch columns
    footer button / tray submenu / Engines dialog ──► EngineSwitcher.switch_to(id)
        ──► busy.py: work in flight (ctx.runner.work_in_flight())? ask; kept = nothing changes
        ──► targets.engine_for(entry) (Portside's own engine object, or an EntryEngine whose
            client_for(entry) picks unix, TLS or ssh) ──► AppContext.switch_engine()
        ──► engine_switching: forget.py closes pages, log windows, dialogs, empties rows
        ──► old tasks, events stream and client closed and awaited ──► new client ──► resync

Nothing here talks to an engine directly except through ``engine.engines`` (probe, client_for)
and the AppContext; the choice is remembered as ``engine_id`` in settings.json.
"""
