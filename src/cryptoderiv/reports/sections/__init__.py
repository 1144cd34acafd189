"""One module per report section. Each gathers its data with parameterised queries and returns a
:class:`~cryptoderiv.reports.content.Section`; a source with no data yet gives a section holding one
readable line instead of failing."""
