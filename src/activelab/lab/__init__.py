"""The lab: benchmarks of strategies against random, reports, and published protocols.

Modules
-------
config
    :class:`BenchmarkConfig`, read from TOML or built from arguments; the run grid.
runner
    :func:`run_benchmark`: parallel, resumable execution; one result file per run.
splits
    :func:`paired_split`: the one split and initial-set policy of ``simulate`` and
    ``benchmark`` (stratified, seeded by the seed).
stats
    Normalised AULC, labels-to-target, savings and paired tests over seeds.
report
    :func:`build_report`: a self-contained HTML report with embedded PNGs.
zhan2021
    The protocol of Lu et al. (TMLR 2025) on the Zhan et al. (IJCAI 2021) tabular sets.
"""
