"""The numbers Lu, Cheng, Li & Lin (TMLR 2025) publish for the 26 binary Zhan et al. sets.

Lu et al.'s AUBC is Zhan et al.'s ``AUBC_Zhan`` (their code repository): the test accuracy
after each of the ``Q`` queries, the point at the initial labels left out, trapezoid area
of those ``Q - 1`` intervals divided by ``Q`` (see :func:`activelab.lab.zhan2021.aubc_published`).
Their means are over 100 trials.
"""

from __future__ import annotations

import math

__all__ = ["PUBLISHED", "PUBLISHED_DIFF", "PUBLISHED_TRIALS", "STRATEGIES", "published_cell"]

#: The protocol's columns: Lu et al.'s Uniform, US-C and Core-Set, the Platt-entropy variant
#: and the library's own strategy.
STRATEGIES: tuple[str, ...] = ("random", "margin", "entropy", "coreset", "ours")

#: Trials behind every published mean.
PUBLISHED_TRIALS = 100

#: Mean ± SD AUBC that Lu et al. publish for 26 binary sets (100 trials), from the
#: results table in the README of their code repository (ariapoy/active-learning-benchmark,
#: ``results/README.md``): Uniform, US-C (margin with the task SVC), US-NC (uncertainty
#: sampling with a logistic-regression query model) and Core-Set.
PUBLISHED: dict[str, dict[str, str]] = {
    "appendicitis": {"random": "0.8395±0.0363", "margin": "0.8454±0.0333", "us_nc": "0.8449±0.0322", "coreset": "0.8398±0.0327"},
    "sonar": {"random": "0.7463±0.0379", "margin": "0.7762±0.0313", "us_nc": "0.7622±0.0329", "coreset": "0.7420±0.0353"},
    "parkinsons": {"random": "0.8305±0.0368", "margin": "0.8531±0.0343", "us_nc": "0.8511±0.0321", "coreset": "0.8356±0.0346"},
    "ex8b": {"random": "0.8853±0.0280", "margin": "0.8981±0.0245", "us_nc": "0.8938±0.0250", "coreset": "0.8916±0.0257"},
    "heart": {"random": "0.8051±0.0279", "margin": "0.8157±0.0262", "us_nc": "0.8120±0.0266", "coreset": "0.8105±0.0260"},
    "haberman": {"random": "0.7308±0.0270", "margin": "0.7295±0.0287", "us_nc": "0.7301±0.0286", "coreset": "0.7267±0.0280"},
    "ionosphere": {"random": "0.9180±0.0178", "margin": "0.9300±0.0154", "us_nc": "0.9197±0.0179", "coreset": "0.9134±0.0166"},
    "clean1": {"random": "0.8183±0.0194", "margin": "0.8425±0.0214", "us_nc": "0.8329±0.0195", "coreset": "0.7897±0.0249"},
    "breast": {"random": "0.9616±0.0090", "margin": "0.9632±0.0091", "us_nc": "0.9624±0.0092", "coreset": "0.9626±0.0090"},
    "wdbc": {"random": "0.9539±0.0130", "margin": "0.9652±0.0103", "us_nc": "0.9597±0.0111", "coreset": "0.9586±0.0105"},
    "australian": {"random": "0.8483±0.0158", "margin": "0.8504±0.0157", "us_nc": "0.8459±0.0159", "coreset": "0.8478±0.0158"},
    "diabetes": {"random": "0.7424±0.0152", "margin": "0.7479±0.0153", "us_nc": "0.7432±0.0147", "coreset": "0.7491±0.0138"},
    "mammographic": {"random": "0.8130±0.0198", "margin": "0.8177±0.0195", "us_nc": "0.8167±0.0206", "coreset": "0.8162±0.0193"},
    "ex8a": {"random": "0.8539±0.0217", "margin": "0.8788±0.0176", "us_nc": "0.8273±0.0220", "coreset": "0.8540±0.0201"},
    "tictactoe": {"random": "0.8718±0.0153", "margin": "0.8720±0.0158", "us_nc": "0.8718±0.0154", "coreset": "0.8716±0.0149"},
    "german": {"random": "0.7340±0.0173", "margin": "0.7417±0.0154", "us_nc": "0.7388±0.0149", "coreset": "0.7365±0.0152"},
    "splice": {"random": "0.8075±0.0161", "margin": "0.8229±0.0130", "us_nc": "0.8158±0.0138", "coreset": "0.7518±0.0276"},
    "gcloudb": {"random": "0.8952±0.0117", "margin": "0.8981±0.0109", "us_nc": "0.8853±0.0225", "coreset": "0.8920±0.0118"},
    "gcloudub": {"random": "0.9437±0.0096", "margin": "0.9560±0.0082", "us_nc": "0.9490±0.0089", "coreset": "0.8929±0.0181"},
    "checkerboard": {"random": "0.9781±0.0059", "margin": "0.9847±0.0062", "us_nc": "0.9134±0.0258", "coreset": "0.9874±0.0031"},
    "spambase": {"random": "0.9103±0.0057", "margin": "0.9205±0.0043", "us_nc": "0.9010±0.0044", "coreset": "0.9052±0.0073"},
    "banana": {"random": "0.8926±0.0038", "margin": "0.8787±0.0219", "us_nc": "0.8050±0.0306", "coreset": "0.8930±0.0048"},
    "phoneme": {"random": "0.8254±0.0101", "margin": "0.8355±0.0063", "us_nc": "0.8211±0.0078", "coreset": "0.8240±0.0059"},
    "ringnorm": {"random": "0.9776±0.0021", "margin": "0.9786±0.0026", "us_nc": "0.9767±0.0028", "coreset": "0.9477±0.0190"},
    "twonorm": {"random": "0.9753±0.0019", "margin": "0.9764±0.0017", "us_nc": "0.9755±0.0018", "coreset": "0.9755±0.0017"},
    "phishing": {"random": "0.9382±0.0048", "margin": "0.9460±0.0049", "us_nc": "0.9391±0.0040", "coreset": "0.9406±0.0043"},
}


#: Mean AUBC difference from Uniform that Lu et al. publish (same README, "Usefulness of
#: query strategies"; ``*`` / ``**``: paired t-test rejects at 0.05 / 0.01), for US-C
#: (margin with the task SVC) and Core-Set.
PUBLISHED_DIFF: dict[str, dict[str, str]] = {
    "appendicitis": {"margin": "+0.0058**", "coreset": "+0.0003"},
    "sonar": {"margin": "+0.0299**", "coreset": "-0.0044"},
    "parkinsons": {"margin": "+0.0226**", "coreset": "+0.0051**"},
    "ex8b": {"margin": "+0.0127**", "coreset": "+0.0063**"},
    "heart": {"margin": "+0.0107**", "coreset": "+0.0054**"},
    "haberman": {"margin": "-0.0014", "coreset": "-0.0041"},
    "ionosphere": {"margin": "+0.0120**", "coreset": "-0.0046"},
    "clean1": {"margin": "+0.0242**", "coreset": "-0.0286"},
    "breast": {"margin": "+0.0016**", "coreset": "+0.0010**"},
    "wdbc": {"margin": "+0.0113**", "coreset": "+0.0047**"},
    "australian": {"margin": "+0.0021**", "coreset": "-0.0006"},
    "diabetes": {"margin": "+0.0054**", "coreset": "+0.0067**"},
    "mammographic": {"margin": "+0.0047**", "coreset": "+0.0032**"},
    "ex8a": {"margin": "+0.0249**", "coreset": "+0.0001"},
    "tictactoe": {"margin": "+0.0001", "coreset": "-0.0002"},
    "german": {"margin": "+0.0077**", "coreset": "+0.0025**"},
    "splice": {"margin": "+0.0154**", "coreset": "-0.0557"},
    "gcloudb": {"margin": "+0.0029**", "coreset": "-0.0032"},
    "gcloudub": {"margin": "+0.0123**", "coreset": "-0.0508"},
    "checkerboard": {"margin": "+0.0066**", "coreset": "+0.0093**"},
    "spambase": {"margin": "+0.0102**", "coreset": "-0.0050"},
    "banana": {"margin": "-0.0139", "coreset": "+0.0005"},
    "phoneme": {"margin": "+0.0101**", "coreset": "-0.0014"},
    "ringnorm": {"margin": "+0.0010**", "coreset": "-0.0299"},
    "twonorm": {"margin": "+0.0011**", "coreset": "+0.0002"},
    "phishing": {"margin": "+0.0078**", "coreset": "+0.0024**"},
}


def published_cell(dataset: str, strategy: str) -> tuple[float, float] | None:
    """Lu et al.'s ``(mean, sd)`` for a dataset and column (US-C is ``margin``), or None."""
    text = PUBLISHED.get(dataset, {}).get(strategy)
    if text is None:
        return None
    mean, _, sd = text.partition("±")
    return float(mean), float(sd) if sd else math.nan
