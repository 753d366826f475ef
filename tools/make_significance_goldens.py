"""Writes fixtures/audit/student-t-golden.tsv and fixtures/audit/improvement-test-golden.tsv with SciPy.

Run by hand (never in CI): python3 tools/make_significance_goldens.py
The Swift tests compare pgverify's own Student t CDF, regularized incomplete beta and one-sided
t-tests with these values.
"""
import os
import scipy
from scipy import special, stats

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "audit")

with open(os.path.join(root, "student-t-golden.tsv"), "w") as out:
    out.write(f"# scipy {scipy.__version__}: stats.t.cdf(t, df) and special.betainc(a, b, x)\n")
    out.write("kind\tx_or_t\ta_or_df\tb\tvalue\n")
    for df in [1, 1.5, 2, 2.37, 3, 4, 5, 7.9, 10, 30, 100, 1000]:
        for t in [-40, -8.5, -3.1, -1, -0.25, 0, 0.3, 1.7, 2.5, 4.541, 12, 60]:
            out.write(f"t_cdf\t{t!r}\t{df!r}\t\t{float(stats.t.cdf(t, df))!r}\n")
    for a, b in [(0.5, 0.5), (1, 1), (2, 3), (0.5, 5), (10, 0.5), (50, 60), (1.25, 0.5)]:
        for x in [0.001, 0.05, 0.3, 0.5, 0.77, 0.999]:
            out.write(f"betainc\t{x!r}\t{a!r}\t{b!r}\t{float(special.betainc(a, b, x))!r}\n")

cases = [
    # (new val_loss per seed, previous record per seed)
    ([2.0500, 2.0512, 2.0490], [2.0600, 2.0610, 2.0605]),
    ([2.0500, 2.0512, 2.0490, 2.0650], [2.0600, 2.0610, 2.0605]),
    ([1.9000, 1.9003], [1.9100, 1.9080, 1.9120, 1.9105]),
    ([2.3270, 2.3284, 2.3262], [2.3341]),
    ([2.3270, 2.3284, 2.3262, 2.3330], [2.3341]),
    ([3.0, 3.1, 2.9], [3.0, 3.0]),
]
margin = 0.005
with open(os.path.join(root, "improvement-test-golden.tsv"), "w") as out:
    out.write(f"# scipy {scipy.__version__}: one-sided t-tests of H1 mean(previous) - mean(new) > {margin}\n")
    out.write("# Welch: stats.ttest_ind(new, previous - margin, equal_var=False, alternative='less');"
              " one previous value: stats.ttest_1samp(new, previous - margin, alternative='less')\n")
    out.write("new\tprevious\tt_for_improvement\tp\n")
    for new, previous in cases:
        if len(previous) > 1:
            result = stats.ttest_ind(new, [p - margin for p in previous], equal_var=False, alternative="less")
        else:
            result = stats.ttest_1samp(new, previous[0] - margin, alternative="less")
        # scipy's t is for mean(new) - mean(shifted previous); pgverify states it for the improvement: -t.
        out.write(",".join(map(repr, new)) + "\t" + ",".join(map(repr, previous))
                  + f"\t{-float(result.statistic)!r}\t{float(result.pvalue)!r}\n")
