"""The feed jobs the ``ioc`` command runs: simulate, record, replay and drill.

Each job takes ``Settings`` and its own options, assembles simulators, a recording or Kafka,
prints a progress line every few seconds and returns the process's exit code; ``streams/cli/feeds.py``
only parses the options.  The logic they run is in ``simulators/`` (``base.py``, ``recording.py``,
``timeshift.py``, ``drills/``).
"""
