"""Deterministic synthetic drops: Dutch households, their persons, and the messy records they leave.

The generator first builds a population (households with addresses, landlines, loyalty cards, pets
and family e-mail; persons with true names, birth dates, sizes and preferences), then writes each
person's records in each channel through that channel's noise profile (``ChannelProfile``), and
finally the persons' interactions and stated preferences. Everything random is drawn from one
``random.Random(seed)``; Faker("nl_NL"), seeded with the same seed, only fills the name, street and
town pools once. So the same seed and household count give byte-identical files.

Timestamps are relative to ``SynthConfig.as_of`` (a fixed instant, not the wall clock), again for
determinism.

Two noise versions (``SynthConfig.noise``, ``herken generate --noise``): "v1" is the generator as it
was before issue 12, byte for byte per seed, with roepnamen from its first list (which shared 116 of
its 139 name pairs with the resolver's own list). "v2", the default, takes its names from
``synth/names.py``, written apart from the resolver's list, and adds the name noise of
``NameNoise`` (functions in ``synth/noise.py``). v2 draws from the same random stream, so
a v2 drop differs from the v1 drop of the same seed in more than the noise.

The package, by concern (each imports only the ones before it):

- ``config``: every knob that shapes the data (``SynthConfig``, ``ChannelProfile``, ``NameNoise``);
- ``reference``: static reference data (the v1 name list, surnames, streets, towns, domains, sizes,
  categories); ``names``: the v2 name list; ``noise``: the name noise functions;
- ``model``: the values of the population (addresses, households, persons, records) and weighted draws;
- ``pools``: name, street and town pools drawn from Faker once per drop;
- ``population``: households, families, movers and leavers, e-mail addresses, each person's records;
- ``render``: a person's truth through a channel's noise;
- ``behaviour``: stated preferences and interactions;
- ``writer``: ``generate_drop``, the entry point, and the CSV files.

This module imports none of them, so that ``synth.names`` and ``synth.noise`` load alone (they are
kept apart from the resolver's nickname list; see tests/unit/test_synth_names.py). Use
``synth.writer.generate_drop`` and ``synth.config.SynthConfig``.
"""
