"""From hidden states to what is shown: entities, gold scores and suspect labels, neighbours,
3D layouts, separation scores, maps, and the plain data a run hands on (``result``,
``changes``). Imports ``inputs`` and ``model``, never ``viewer``."""
