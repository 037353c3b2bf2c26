"""The rollout gate's decision rule: pure, no I/O, the same code in the probe and the simulation.

Evidence comes in *pairs*: one call to the old version and one to the new, with the same
payload. Only discordant pairs (exactly one side failed) say anything about which version fails
more often. Given a discordant pair, the new version is the one that failed with probability

    theta = p1 (1 - p0) / (p1 (1 - p0) + p0 (1 - p1)),

and theta <= 1/2 exactly when p1 <= p0, whatever p0 is: the old version's error rate drops out
(McNemar's insight). Two checks share the false-rollback rate alpha (Bonferroni):

1. *Continuous*, after every pair: the likelihood ratio of theta1 against 1/2 over the discordant
   pairs, ``(2 theta1)^k (2 (1 - theta1))^m`` (k pairs where only the new version failed, m where
   only the old one did). When the new version is no worse it is a nonnegative supermartingale
   of mean 1, so by Ville's inequality it ever reaches ``1 / alpha_v`` with probability at most
   ``alpha_v``, however often it is looked at.
2. *Final*, once, before all traffic moves: the exact one-sided sign test over every discordant
   pair, ``P(Bin(D, 1/2) >= k) <= alpha_f``. Conditional on D it is exact for any p0.

The number of pairs (the budget) is McNemar's normal-approximation sample size for detecting
p1 = p0 + delta with the stated power; it is spread evenly over the gates. It grows when the
pooled error rate shows the old version failing more than ``baseline_error_rate`` (a larger p0
needs more pairs for the same power); the pooled rate does not depend on which side failed, so
whatever it makes the probe do, the final test stays exact conditional on D.

*Real traffic* (``MetricsGate``) is not paired, but the same argument holds per window of
CloudWatch counts: given n0 invocations of the old version, n1 of the new and E errors among
them, which invocations failed says everything, and when p1 <= p0 the number K of errors on the
new version is at most (stochastically) hypergeometric: E draws from n0 + n1 invocations of which
n1 are the new version's, each error the new version's with probability n1 / (n0 + n1). Only
errors carry information, and the old version's rate drops out again. Each window is a stratum
with its own share (the weight moves between steps). The same two checks share alpha:

1. *Continuous*, after every window: the product over windows of the likelihood ratio of the
   errors' split under p1 = baseline + max_error_rate against the share n1 / (n0 + n1). Under
   the binomial view each window's factor has mean 1 when p1 = p0; the hypergeometric is less
   spread (Hoeffding 1963) and the factor is convex in K, so its mean is at most 1, and lower
   still when p1 < p0: Ville's inequality holds as for pairs.
2. *Final*: the stratified exact test (Fisher's exact test, summed over windows): ``P(sum of
   independent hypergeometrics >= K)``. It is exact conditional on every window's counts, for
   any p0, and conservative for p1 < p0 (a smaller odds ratio makes K stochastically smaller).
   Fisher's rather than the Poisson-binomial over windows: invocations are Bernoulli trials
   (Errors never exceed Invocations), for which the hypergeometric is the exact conditional law
   and the binomial only the rare-error approximation. The tail is a convolution while the
   errors are few, and its Edgeworth expansion (within 1%) once they are many, so that a
   rollout of hundreds of windows and millions of invocations is judged in milliseconds.

The gate does not choose how much traffic there is; the power target becomes a minimum: the
new-version invocations the final test needs to catch ``max_error_rate`` with
``detection_rate`` at the traffic mix seen (a normal approximation of the stratified test);
fewer by the last gate fail as too little traffic.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Sequence
from statistics import NormalDist

import attrs

from ._errors import ValidationError

__all__ = [
    "GateRule",
    "PairTally",
    "TrafficTally",
    "TrafficVerdict",
    "TrafficWindow",
    "Verdict",
    "mcnemar_pairs",
    "sign_test_p_value",
    "simulate_rollout",
    "simulate_traffic_rollout",
    "stratified_exact_p_value",
]

_SEQUENTIAL_SHARE = 0.2
"""alpha_v / alpha. The final test's share sets the budget, the continuous check's how soon a
bad version is caught; simulated at the defaults (bench/README.md), 0.2 is the middle way and
an even split costs 8% more pairs."""

_OLD_RATE_MARGIN = 1.0
"""Standard errors (z of the Wilson interval's upper end) added to the estimate of the old
version's error rate when the budget is recomputed. The estimate is noisy, and a bad version
the continuous check has not caught by the last gate gets its budget from it: one standard
error tops such rollouts up enough that the detection rate clears the stated one by more
than a simulation's interval (at the worst case 96.66% for Canary(0.1) and 96.43% for
Linear(0.1), bench/README.md, against 95.5% without), while a healthy one at or below the
baseline keeps its budget."""


_SHORT_RATE = 0.01
"""At exactly ``invocations_per_step``, the share of healthy rollouts (the old version at the
baseline) whose old version's errors ask for more traffic than was sent, at most."""

_MAX_SHOWN_RATIO = 1e300
_LOG_MAX_SHOWN_RATIO = math.log(_MAX_SHOWN_RATIO)
"""A verdict's likelihood ratio is shown up to 1e300: strong evidence can take it past what a
float holds (e^709), and JSON has no infinity. The check itself compares logarithms, and the
reason states the whole ratio."""


def _shown_ratio(log_ratio: float) -> float:
    return _MAX_SHOWN_RATIO if log_ratio >= _LOG_MAX_SHOWN_RATIO else math.exp(log_ratio)


def _ratio_text(log_ratio: float, digits: int) -> str:
    """The ratio ``e^log_ratio`` to ``digits`` significant digits, however large."""
    if log_ratio < _LOG_MAX_SHOWN_RATIO:
        return f"{math.exp(log_ratio):.{digits}g}"
    exponent, mantissa = divmod(log_ratio / math.log(10), 1)
    return f"{10**mantissa:.{digits}g}e+{exponent:.0f}"


@attrs.frozen(slots=True)
class PairTally:
    """Counts of probe pairs: ``pairs`` in all, ``new_only`` where only the new version failed
    (k), ``old_only`` where only the old one failed (m), ``both_failed``."""

    pairs: int = 0
    new_only: int = 0
    old_only: int = 0
    both_failed: int = 0

    @property
    def discordant(self) -> int:
        """Pairs where exactly one version failed: the only ones that tell the versions apart."""
        return self.new_only + self.old_only

    @property
    def pooled_error_rate(self) -> float:
        """Failed calls per call, both versions together (0 with no pairs)."""
        if not self.pairs:
            return 0.0
        return (2 * self.both_failed + self.discordant) / (2 * self.pairs)

    def record(self, old_failed: bool, new_failed: bool, count: int = 1) -> PairTally:
        """This tally and ``count`` more pairs with these outcomes."""
        return PairTally(
            self.pairs + count,
            self.new_only + count * (new_failed and not old_failed),
            self.old_only + count * (old_failed and not new_failed),
            self.both_failed + count * (old_failed and new_failed),
        )

    def __add__(self, other: PairTally) -> PairTally:
        return PairTally(
            self.pairs + other.pairs,
            self.new_only + other.new_only,
            self.old_only + other.old_only,
            self.both_failed + other.both_failed,
        )


def _discordant_new_share(p0: float, p1: float) -> float:
    """theta: the probability that the new version is the one that failed in a discordant pair."""
    q1, q0 = p1 * (1 - p0), p0 * (1 - p1)
    return q1 / (q1 + q0)


def mcnemar_pairs(p0: float, p1: float, *, alpha: float, power: float) -> int:
    """Pairs for a one-sided McNemar test at level ``alpha`` to detect ``p1 > p0`` with
    ``power`` (the normal approximation, as in Connor 1987)."""
    q1, q0 = p1 * (1 - p0), p0 * (1 - p1)
    psi, delta = q1 + q0, q1 - q0
    z_alpha = NormalDist().inv_cdf(1 - alpha)
    z_power = NormalDist().inv_cdf(power)
    root = z_alpha * math.sqrt(psi) + z_power * math.sqrt(psi - delta * delta)
    return max(1, math.ceil((root / delta) ** 2))


def sign_test_p_value(new_only: int, discordant: int) -> float:
    """``P(Bin(discordant, 1/2) >= new_only)``: exact, from integer binomial coefficients."""
    if not 0 <= new_only <= discordant:
        raise ValueError("new_only must be between 0 and discordant")
    tail: int = sum(math.comb(discordant, i) for i in range(new_only, discordant + 1))
    return tail / (1 << discordant)


def _upper_rate(errors: int, trials: int) -> float:
    """The old version's error rate for sizing: the upper end of the Wilson score interval of
    ``errors / trials`` at ``_OLD_RATE_MARGIN`` standard errors. Unlike the estimate plus a
    standard error (Wald's), it does not collapse to the estimate at 0 or all errors in a
    handful of trials. 0 with no trials."""
    if not trials:
        return 0.0
    z2 = _OLD_RATE_MARGIN**2
    share = errors / trials
    centre = share + z2 / (2 * trials)
    spread = _OLD_RATE_MARGIN * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials**2))
    return min(1.0, (centre + spread) / (1 + z2 / trials))


def _binomial_quantile(trials: int, rate: float, level: float) -> int:
    """The smallest x with ``P(Bin(trials, rate) <= x) >= level``."""
    total = 0.0
    for x in range(trials + 1):
        total += math.exp(
            _log_comb(trials, x) + x * math.log(rate) + (trials - x) * math.log1p(-rate)
        )
        if total >= level:
            return x
    return trials


def _fraction(name: str, value: object, *, low: float = 0.0, high: float = 1.0) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or math.isnan(value)
        or not low < value < high
    ):
        raise ValidationError(
            f"{name} must be a number between {low:g} and {high:g} (exclusive), got {value!r}",
            field=name,
        )
    return float(value)


@attrs.frozen(slots=True)
class Verdict:
    """What the rule decided from the pairs so far: ``healthy``, a ``reason`` a person can
    read, the ``tally``, the continuous check's ``likelihood_ratio`` against its ``threshold``
    (shown up to 1e300, which any ratio beyond reads as: a finite number, fit for JSON; the
    ``reason`` states it whole),
    the final test's ``p_value`` (None before the last gate), and ``required_pairs``, the budget
    at the evidence so far (None when no number of pairs could reach the stated power)."""

    healthy: bool
    reason: str
    tally: PairTally
    likelihood_ratio: float
    threshold: float
    p_value: float | None
    required_pairs: int | None
    final: bool


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(f"{name} must be an integer of 0 or more, got {value!r}", field=name)
    return value


@attrs.frozen(slots=True)
class TrafficWindow:
    """Real traffic in one window: each version's invocations and the errors among them.
    Windows add up with ``+``."""

    old_invocations: int = 0
    old_errors: int = 0
    new_invocations: int = 0
    new_errors: int = 0

    def __attrs_post_init__(self) -> None:
        for side in ("old", "new"):
            invocations = _count(f"{side}_invocations", getattr(self, f"{side}_invocations"))
            if _count(f"{side}_errors", getattr(self, f"{side}_errors")) > invocations:
                raise ValidationError(
                    f"{side}_errors must not exceed {side}_invocations", field=f"{side}_errors"
                )

    @property
    def errors(self) -> int:
        """Errors of both versions."""
        return self.old_errors + self.new_errors

    @property
    def new_share(self) -> float:
        """n1 / (n0 + n1): the new version's share of the invocations (0 with none), which is
        the chance that an error was the new version's when it fails no more often."""
        total = self.old_invocations + self.new_invocations
        return self.new_invocations / total if total else 0.0

    @property
    def informative(self) -> bool:
        """Whether both versions served invocations: only then can an error tell them apart."""
        return self.old_invocations > 0 and self.new_invocations > 0

    def __add__(self, other: TrafficWindow) -> TrafficWindow:
        return TrafficWindow(
            self.old_invocations + other.old_invocations,
            self.old_errors + other.old_errors,
            self.new_invocations + other.new_invocations,
            self.new_errors + other.new_errors,
        )


@attrs.frozen(slots=True)
class TrafficTally:
    """The windows of real traffic a rollout's gates have judged, oldest first."""

    windows: tuple[TrafficWindow, ...] = ()

    def add(self, window: TrafficWindow) -> TrafficTally:
        """This tally and one more window."""
        return TrafficTally((*self.windows, window))

    @property
    def total(self) -> TrafficWindow:
        """Every window's counts added up."""
        return _added(self.windows)

    @property
    def informative(self) -> TrafficWindow:
        """The counts of the windows in which both versions served invocations."""
        return _added([w for w in self.windows if w.informative])


def _added(windows: Sequence[TrafficWindow]) -> TrafficWindow:
    return TrafficWindow(
        sum(w.old_invocations for w in windows),
        sum(w.old_errors for w in windows),
        sum(w.new_invocations for w in windows),
        sum(w.new_errors for w in windows),
    )


@attrs.frozen(slots=True)
class TrafficVerdict:
    """What the rule decided from real traffic so far: as :class:`Verdict`, over a
    :class:`TrafficTally`; ``required_invocations`` is the new version's invocations the
    final test needs at the traffic mix seen (None before both versions had traffic, or when
    the old version fails so often that no amount of traffic could show the rise)."""

    healthy: bool
    reason: str
    tally: TrafficTally
    likelihood_ratio: float
    threshold: float
    p_value: float | None
    required_invocations: int | None
    final: bool


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


_NEGLIGIBLE = 1e-20
"""Terms of a distribution below this share of its largest are left out, in each window's
law and after each convolution: the laws stay as wide as their bulk (some 19 standard
deviations), and a p-value moves by far less than any false-rollback rate could notice."""

_APPROXIMATE_FROM = 100.0
"""The variance of the new version's errors (null law, all windows together) from which the
final test's tail is the Edgeworth expansion rather than the convolution. Below it the
convolution takes at most ~12 ms, even over a thousand windows; from it the expansion is
within 1% of the exact p-value wherever p is between 1e-4 and 0.5 (0.8% at worst in the
cases measured, tests/test_traffic_rule.py checks 2%), at a cost of microseconds a window:
9 windows of 1M invocations, or 300 of 100k, at 2-5% errors, in under 2 ms (the direct
convolution took 7.5 s for the former)."""

_Law = tuple[int, list[float]]
"""A distribution on the integers: its first value, and the probabilities from there."""


def _hypergeometric(window: TrafficWindow) -> _Law:
    """The law of the new version's errors in ``window`` when both versions fail alike,
    walked out from its mode while terms are not negligible."""
    n0, n1, errors = window.old_invocations, window.new_invocations, window.errors
    low, high = max(0, errors - n0), min(errors, n1)
    mode = min(high, max(low, (errors + 1) * (n1 + 1) // (n0 + n1 + 2)))
    above, term, k = [], 1.0, mode  # relative to the mode's probability
    while k < high and term >= _NEGLIGIBLE:
        term *= (n1 - k) * (errors - k) / ((k + 1) * (n0 - errors + k + 1))
        above.append(term)
        k += 1
    below, term, k = [], 1.0, mode
    while k > low and term >= _NEGLIGIBLE:
        term *= k * (n0 - errors + k) / ((n1 - k + 1) * (errors - k + 1))
        below.append(term)
        k -= 1
    terms = [*reversed(below), 1.0, *above]
    whole = math.fsum(terms)
    return mode - len(below), [value / whole for value in terms]


def _null_variance(window: TrafficWindow) -> float:
    """The variance of ``window``'s hypergeometric law."""
    total, errors = window.old_invocations + window.new_invocations, window.errors
    share = window.new_share
    return errors * share * (1 - share) * (total - errors) / max(1, total - 1)


def _convolved(a: _Law, b: _Law) -> _Law:
    """The law of the sum of independent variables of laws ``a`` and ``b``, trimmed."""
    (a_first, longer), (b_first, shorter) = sorted((a, b), key=lambda law: -len(law[1]))
    merged = [0.0] * (len(longer) + len(shorter) - 1)
    for j, weight in enumerate(shorter):
        end = j + len(longer)
        merged[j:end] = [m + weight * x for m, x in zip(merged[j:end], longer, strict=True)]
    cut = max(merged) * _NEGLIGIBLE
    first = next(i for i, value in enumerate(merged) if value >= cut)
    last = len(merged) - next(i for i, value in enumerate(reversed(merged)) if value >= cut)
    return a_first + b_first + first, merged[first:last]


def _exact_tail(laws: list[_Law], observed: int) -> float:
    """``P(sum >= observed)`` by convolution, always merging the two narrowest laws (as a
    Huffman code does): each merge costs the product of the widths, and narrow laws merged
    first keep the wide ones few."""
    heap = [(len(terms), index, (first, terms)) for index, (first, terms) in enumerate(laws)]
    heapq.heapify(heap)
    count = len(heap)
    while len(heap) > 1:
        a, b = heapq.heappop(heap)[2], heapq.heappop(heap)[2]
        merged = _convolved(a, b)
        heapq.heappush(heap, (len(merged[1]), count, merged))
        count += 1
    first, terms = heap[0][2]
    return math.fsum(terms[max(0, observed - first) :])


def _cumulants(window: TrafficWindow) -> tuple[float, float, float, float]:
    """The first four cumulants of ``window``'s hypergeometric law: in closed form (Kendall &
    Stuart), or from the law itself for fewer than 4 invocations, where the forms divide by
    zero."""
    total, new, errors = (
        window.old_invocations + window.new_invocations,
        window.new_invocations,
        window.errors,
    )
    if total < 4:
        first, terms = _hypergeometric(window)
        mean = math.fsum((first + k) * p for k, p in enumerate(terms))
        moments = [
            math.fsum((first + k - mean) ** power * p for k, p in enumerate(terms))
            for power in (2, 3, 4)
        ]
        return mean, moments[0], moments[1], moments[2] - 3 * moments[0] ** 2
    old, spared = total - new, total - errors
    variance = _null_variance(window)
    third = variance * (total - 2 * new) * (total - 2 * errors) / (total * (total - 2))
    excess = (
        (total - 1) * total**2 * (total * (total + 1) - 6 * new * old - 6 * errors * spared)
        + 6 * errors * new * old * spared * (5 * total - 6)
    ) / (errors * new * old * spared * (total - 2) * (total - 3))
    return errors * new / total, variance, third, excess * variance**2


def _edgeworth_tail(windows: Sequence[TrafficWindow], observed: int) -> float:
    """``P(K >= observed)`` from K's first four cumulants (each window's, added up): the
    normal tail with a continuity correction, corrected for skewness and kurtosis (the
    Edgeworth expansion to the order 1 / variance)."""
    mean, variance, third, fourth = map(math.fsum, zip(*map(_cumulants, windows), strict=True))
    sd = math.sqrt(variance)
    z = (observed - 0.5 - mean) / sd
    skew, kurtosis = third / sd**3, fourth / variance**2
    density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    correction = (
        skew / 6 * (z * z - 1)
        + kurtosis / 24 * (z**3 - 3 * z)
        + skew * skew / 72 * (z**5 - 10 * z**3 + 15 * z)
    )
    return min(1.0, max(0.0, math.erfc(z / math.sqrt(2)) / 2 + density * correction))


def stratified_exact_p_value(windows: Sequence[TrafficWindow]) -> float:
    """``P(K >= k)``, k the new version's errors over ``windows``, K the sum of each window's
    hypergeometric law (Fisher's exact test over strata): exact conditional on each window's
    invocations and errors when both versions fail alike. 1 without errors.

    Windows without errors, or in which one version served nothing, add nothing uncertain
    and cost nothing. When K's variance reaches 100 (some hundreds of errors), the tail is
    the Edgeworth expansion of K's law, within 1% of the exact value where it decides; any
    realistic rollout (hundreds of windows, millions of invocations) is judged in
    milliseconds. A p-value far below any level (under about 1e-20) may show as 0."""
    # Windows in which one version served nothing hold errors of one version only: they
    # count on both sides of the comparison alike, and are left out of it.
    informative = [window for window in windows if window.errors and window.informative]
    if not informative:
        return 1.0
    observed = sum(window.new_errors for window in informative)
    if sum(map(_null_variance, informative)) >= _APPROXIMATE_FROM:
        return _edgeworth_tail(informative, observed)
    return min(1.0, _exact_tail([_hypergeometric(window) for window in informative], observed))


@attrs.frozen(slots=True)
class GateRule:
    """The gate's parameters, checked on construction.

    - ``max_error_rate``: the smallest rise in the error rate worth catching (delta; 0.05 is
      five points).
    - ``baseline_error_rate``: the highest old-version error rate the budget is sized for; a
      higher observed rate makes the budget grow.
    - ``false_rollback_rate``: at most this share of rollouts of a version no worse than the
      old one is rolled back.
    - ``detection_rate``: at least this share of rollouts of a version ``max_error_rate``
      worse is rolled back before all traffic moves.
    - ``max_pairs``: the most pairs per rollout; a budget beyond it fails the last gate as too
      little evidence.
    """

    max_error_rate: float = 0.05
    baseline_error_rate: float = 0.02
    false_rollback_rate: float = 0.01
    detection_rate: float = 0.95
    max_pairs: int = 2500
    _log_step_new: float = attrs.field(init=False, repr=False, eq=False)
    _log_step_old: float = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        delta = _fraction("max_error_rate", self.max_error_rate)
        baseline = _fraction("baseline_error_rate", self.baseline_error_rate, high=1 - delta)
        _fraction("false_rollback_rate", self.false_rollback_rate, high=0.5)
        _fraction("detection_rate", self.detection_rate, low=0.5)
        max_pairs: object = self.max_pairs  # checked at run time: callers are not all typed
        if not isinstance(max_pairs, int) or isinstance(max_pairs, bool) or max_pairs < 1:
            raise ValidationError("max_pairs must be an integer of 1 or more", field="max_pairs")
        theta1 = _discordant_new_share(baseline, baseline + delta)
        object.__setattr__(self, "_log_step_new", math.log(2 * theta1))
        object.__setattr__(self, "_log_step_old", math.log(2 * (1 - theta1)))

    @property
    def sequential_alpha(self) -> float:
        """The continuous check's share of the false-rollback rate (alpha_v)."""
        return _SEQUENTIAL_SHARE * self.false_rollback_rate

    @property
    def final_alpha(self) -> float:
        """The final test's share (alpha_f); the two add up to ``false_rollback_rate``."""
        return self.false_rollback_rate - self.sequential_alpha

    @property
    def threshold(self) -> float:
        """The likelihood ratio at which the continuous check rolls back: 1 / alpha_v."""
        return 1 / self.sequential_alpha

    @property
    def budget(self) -> int:
        """The pairs per rollout while the old version fails no more than the baseline rate
        (before ``max_pairs``)."""
        pairs = self.required_pairs(PairTally())
        assert pairs is not None  # baseline + delta < 1, checked on construction
        return pairs

    def likelihood_ratio(self, tally: PairTally) -> float:
        """The continuous check's likelihood ratio over ``tally``'s discordant pairs, at most
        1e300 (see :class:`Verdict`)."""
        return _shown_ratio(self._log_likelihood_ratio(tally))

    def _log_likelihood_ratio(self, tally: PairTally) -> float:
        return tally.new_only * self._log_step_new + tally.old_only * self._log_step_old

    def crossed(self, tally: PairTally) -> bool:
        """The continuous check: True once the likelihood ratio reaches the threshold."""
        return self._log_likelihood_ratio(tally) >= -math.log(self.sequential_alpha)

    def required_pairs(self, tally: PairTally) -> int | None:
        """The budget given the evidence so far: sized for p0 = max(baseline_error_rate,
        the pooled rate's Wilson upper bound at one standard error - max_error_rate / 2) and
        p1 = p0 + max_error_rate. When the new version is ``max_error_rate`` worse, the pooled
        rate lies halfway between the two, so this estimates the old version's rate in the
        very case the budget is for (a healthy version failing as often as the old one is not
        overcharged). None when p1 would exceed 1: no number of pairs can show such a rise."""
        delta = self.max_error_rate
        failed = 2 * tally.both_failed + tally.discordant
        p0 = max(self.baseline_error_rate, _upper_rate(failed, 2 * tally.pairs) - delta / 2)
        if p0 + delta >= 1:
            return None
        return mcnemar_pairs(p0, p0 + delta, alpha=self.final_alpha, power=self.detection_rate)

    def gate_target(self, tally: PairTally, gates_left: int) -> int:
        """How many pairs the tally should hold after this gate: an even share of what the
        budget still needs over the ``gates_left`` gates (this one included), within
        ``max_pairs``. The last gate's target is the whole budget."""
        if gates_left < 1:
            raise ValueError("gates_left must be at least 1")
        needed = self.required_pairs(tally)
        if needed is None:
            # No number of pairs would do; the first budget's worth shows it is no fluke.
            needed = self.budget
        budget = min(needed, self.max_pairs)
        remaining = max(0, budget - tally.pairs)
        return tally.pairs + math.ceil(remaining / gates_left)

    def pairs_to_run(self, tally: PairTally, gates_left: int, *, ran: bool) -> int:
        """How many more pairs the gate should run now; 0 when it is done. Call it again after
        running them (``ran=True``): a gate before the last runs its share once; the last gate
        tops up until the budget at the evidence so far is met or ``max_pairs`` is reached.
        Nothing more once the continuous check has crossed."""
        if self.crossed(tally) or (ran and gates_left > 1):
            return 0
        return self.gate_target(tally, gates_left) - tally.pairs

    def judge(self, tally: PairTally, *, final: bool) -> Verdict:
        """Decide on the pairs so far. Before the last gate only the continuous check fails a
        version, or an error rate so high that no budget could judge it; at the last gate the
        budget must also have been met (else "too little evidence") and the sign test must not
        reject. No pairs never pass."""
        log_ratio = self._log_likelihood_ratio(tally)
        required = self.required_pairs(tally)
        healthy, reason, p_value = self._decide(
            crossed=self.crossed(tally),
            log_ratio=log_ratio,
            counts=f"{tally.pairs} pairs: {tally.new_only} failed on the new version only,"
            f" {tally.old_only} on the old only",
            nothing="too little evidence: no probe pairs" if tally.pairs == 0 else None,
            hopeless=None
            if required is not None
            else f"too little evidence: at a pooled error rate of {tally.pooled_error_rate:.1%}"
            f" no number of pairs can show a rise of {self.max_error_rate:.3g}",
            short=None
            if required is None or tally.pairs >= required
            else f"too little evidence: {tally.pairs} pairs where {required} are needed at a"
            f" pooled error rate of {tally.pooled_error_rate:.1%}"
            f" (at most {self.max_pairs} allowed)",
            final=final,
            test="sign test",
            p_value=lambda: sign_test_p_value(tally.new_only, tally.discordant),
        )
        ratio = _shown_ratio(log_ratio)
        return Verdict(healthy, reason, tally, ratio, self.threshold, p_value, required, final)

    # --- real traffic (MetricsGate) ----------------------------------------------------------

    def traffic_likelihood_ratio(self, tally: TrafficTally) -> float:
        """The continuous check's likelihood ratio over ``tally``'s windows, at most
        1e300 (see :class:`Verdict`)."""
        return _shown_ratio(self._traffic_log_likelihood_ratio(tally))

    def _traffic_log_likelihood_ratio(self, tally: TrafficTally) -> float:
        # The alternative is fixed in advance, as for pairs: p0 at the baseline, p1 above it.
        p0 = self.baseline_error_rate
        p1 = p0 + self.max_error_rate
        total = 0.0
        for window in tally.windows:
            if not window.informative or not window.errors:
                continue
            share = window.new_share
            alternative = window.new_invocations * p1
            alternative /= window.old_invocations * p0 + alternative
            total += window.new_errors * math.log(alternative / share)
            total += window.old_errors * math.log((1 - alternative) / (1 - share))
        return total

    def traffic_crossed(self, tally: TrafficTally) -> bool:
        """The continuous check on real traffic: True once the ratio reaches the threshold."""
        return self._traffic_log_likelihood_ratio(tally) >= -math.log(self.sequential_alpha)

    def required_invocations(self, tally: TrafficTally) -> int | None:
        """The new version's invocations the final test needs to catch a rise of
        ``max_error_rate`` with ``detection_rate``, at the traffic mix of ``tally``'s windows
        (each scaled alike). The old version's rate is taken at the baseline, or at the upper
        end of its observed rate's Wilson interval at one standard error when that is higher
        (as for pairs). None before both versions had traffic in a window, or when
        p0 + max_error_rate would reach 1."""
        seen = tally.informative
        if not seen.informative:
            return None
        p0 = max(self.baseline_error_rate, _upper_rate(seen.old_errors, seen.old_invocations))
        splits = [(w.old_invocations, w.new_invocations) for w in tally.windows if w.informative]
        scale = self._traffic_scale(splits, p0)
        return None if scale is None else max(1, math.ceil(scale * seen.new_invocations))

    def invocations_per_step(self, weights: Sequence[float]) -> int:
        """How many invocations each step of a rollout with these ``weights`` (the same
        traffic in each step, read in one window or many) must send through the alias for a
        healthy release to pass the last gate's traffic minimum: to size steps to a function's
        traffic. The minimum is recomputed from the old version's observed errors and the
        invocations each version actually served, so it is met unless the errors exceed what
        an old version failing at the baseline rate stays at or under in 99% of rollouts, or
        a version's traffic falls below what it exceeds in 99%; an old version failing more
        often needs more."""
        if not weights or not all(0 < weight < 1 for weight in weights):
            raise ValueError("weights must be one or more numbers between 0 and 1")

        # Traffic is not sent to order: each version's count over the rollout is about
        # Poisson, so the sizing takes each total at its low quantile (a 10% canary of 3,400
        # invocations sends the new version 340 +- 18): without it, 2.6% of healthy canaries
        # fell short.
        z = NormalDist().inv_cdf(1 - _SHORT_RATE)

        def enough(per_step: int) -> bool:
            expected = [(per_step * (1 - w), per_step * w) for w in weights]
            totals = [sum(split[side] for split in expected) for side in (0, 1)]
            shrink = [max(0.0, 1 - z / math.sqrt(total)) for total in totals]
            splits = [(old * shrink[0], new * shrink[1]) for old, new in expected]
            old, new = totals[0] * shrink[0], totals[1] * shrink[1]
            if old < 1 or new < 1:
                return False
            errors = _binomial_quantile(round(old), self.baseline_error_rate, 1 - _SHORT_RATE)
            p0 = max(self.baseline_error_rate, _upper_rate(errors, round(old)))
            scale = self._traffic_scale(splits, p0)
            return scale is not None and math.ceil(scale * new) <= new

        # The smallest that is enough, by bisection (the rounding of the old version's count
        # makes it only nearly monotone: what is returned is enough, one fewer is not).
        high = 1
        while not enough(high):
            high *= 2
        low = high // 2 + 1
        while low < high:
            middle = (low + high) // 2
            if enough(middle):
                high = middle
            else:
                low = middle + 1
        return high

    def _traffic_scale(self, splits: Sequence[tuple[float, float]], p0: float) -> float | None:
        """By how much the traffic of windows with these (old, new) invocations must grow for
        the stratified test to catch p1 = p0 + max_error_rate with ``detection_rate`` (a
        normal approximation, at the expected errors); None when p1 would reach 1."""
        p1 = p0 + self.max_error_rate
        if p1 >= 1:
            return None
        shift = null_variance = alternative_variance = 0.0
        for old, new in splits:
            share = new / (old + new)
            errors = old * p0 + new * p1  # expected
            alternative = new * p1 / errors
            shift += errors * (alternative - share)
            null_variance += errors * share * (1 - share)
            alternative_variance += errors * alternative * (1 - alternative)
        z_alpha = NormalDist().inv_cdf(1 - self.final_alpha)
        z_power = NormalDist().inv_cdf(self.detection_rate)
        root = z_alpha * math.sqrt(null_variance) + z_power * math.sqrt(alternative_variance)
        return (root / shift) ** 2

    def judge_traffic(self, tally: TrafficTally, *, final: bool) -> TrafficVerdict:
        """Decide on the windows of real traffic so far, as :meth:`judge` does on pairs: the
        continuous check at every gate; at the last gate, fewer new-version invocations than
        :meth:`required_invocations` fail as too little traffic, else the stratified exact
        test decides. Before the last gate, windows without traffic to compare, or with an old
        version failing too often for any traffic to show a rise, pass (later steps may bring
        traffic, or show the rate a fluke); at the last gate they never do."""
        log_ratio = self._traffic_log_likelihood_ratio(tally)
        required = self.required_invocations(tally)
        seen = tally.informative
        total = tally.total
        nothing = None
        if final and not seen.informative:  # before the last gate, later steps may bring it
            nothing = (
                f"too little traffic: {total.new_invocations} invocations of the new version"
                f" and {total.old_invocations} of the old, never both in one window"
                if total.new_invocations or total.old_invocations
                else "too little traffic: no invocations through the alias"
            )
        healthy, reason, p_value = self._decide(
            crossed=self.traffic_crossed(tally),
            log_ratio=log_ratio,
            counts=f"new version {total.new_errors}/{total.new_invocations} errors,"
            f" old {total.old_errors}/{total.old_invocations}",
            nothing=nothing,
            # Judged at the last gate only, as is no traffic: a few invocations at the first
            # gates (one failure of the old version's one) say nothing yet.
            hopeless=None
            if not final or not seen.informative or required is not None
            else f"too little evidence: the old version fails"
            f" {seen.old_errors / seen.old_invocations:.1%} of its invocations; no amount of"
            f" traffic can show a rise of {self.max_error_rate:.3g}",
            short=None
            if required is None or seen.new_invocations >= required
            else f"too little traffic: the new version served {seen.new_invocations}"
            f" invocations where {required} are needed at this traffic mix",
            final=final,
            test="exact test",
            p_value=lambda: stratified_exact_p_value(tally.windows),
        )
        ratio = _shown_ratio(log_ratio)
        return TrafficVerdict(
            healthy, reason, tally, ratio, self.threshold, p_value, required, final
        )

    def _decide(
        self,
        *,
        crossed: bool,
        log_ratio: float,
        counts: str,
        nothing: str | None,
        hopeless: str | None,
        short: str | None,
        final: bool,
        test: str,
        p_value: Callable[[], float],
    ) -> tuple[bool, str, float | None]:
        """The decision both kinds of evidence share: (healthy, reason, final p-value).

        The continuous check fails a version at any gate; so does evidence that is missing
        (``nothing``) or that no amount of it could judge (``hopeless``). Before the last gate
        the rest passes; at the last gate evidence short of the power target (``short``) fails,
        then the exact test (``test``, its p-value computed only here) decides."""
        if crossed:
            return (
                False,
                f"the new version fails more often: likelihood ratio {_ratio_text(log_ratio, 4)}"
                f" >= {self.threshold:.4g} ({counts})",
                None,
            )
        for missing in (nothing, hopeless):
            if missing is not None:
                return False, missing, None
        if not final:
            return (
                True,
                f"no sign of a higher error rate yet: likelihood ratio {_ratio_text(log_ratio, 3)}"
                f" < {self.threshold:.4g} ({counts})",
                None,
            )
        if short is not None:
            return False, short, None
        p = p_value()
        if p <= self.final_alpha:
            return (
                False,
                f"the new version fails more often: {test} p = {p:.3g}"
                f" <= {self.final_alpha:.3g} ({counts})",
                p,
            )
        return (
            True,
            f"no higher error rate: {test} p = {p:.3g} > {self.final_alpha:.3g} ({counts})",
            p,
        )


def _simulate_pairs(
    rule: GateRule, tally: PairTally, count: int, p0: float, p1: float, rng: random.Random
) -> PairTally:
    """``count`` more simulated pairs, stopping early if the continuous check crosses.

    Pairs in which neither version failed change nothing but the count, so the number of them
    before the next pair with a failure is drawn at once (a geometric draw: exact in
    distribution, and a rollout costs its failures rather than its pairs)."""
    target = tally.pairs + count
    any_failure = 1 - (1 - p0) * (1 - p1)
    if any_failure == 0:
        return tally.record(False, False, count)
    both = p0 * p1 / any_failure
    new_only = p1 * (1 - p0) / any_failure
    while tally.pairs < target:
        if any_failure < 1:
            gap = int(math.log(1 - rng.random()) / math.log1p(-any_failure))
            if tally.pairs + gap >= target:
                return tally.record(False, False, target - tally.pairs)
            tally = tally.record(False, False, gap)
        draw = rng.random()
        tally = tally.record(draw < both or draw >= both + new_only, draw < both + new_only)
        if rule.crossed(tally):
            break
    return tally


def simulate_rollout(
    rule: GateRule, gates: int, p0: float, p1: float, rng: random.Random
) -> Verdict:
    """One simulated rollout through ``gates`` gates, run as ``InvokeProbe`` runs them, where
    the old version fails each call with probability ``p0`` and the new one with ``p1``: the
    verdict of the gate that rolled back, or of the last gate."""
    if gates < 1:
        raise ValueError("a rollout has at least one gate")
    tally = PairTally()
    for index in range(gates):
        gates_left = gates - index
        ran = False
        while count := rule.pairs_to_run(tally, gates_left, ran=ran):
            tally = _simulate_pairs(rule, tally, count, p0, p1, rng)
            ran = True
        verdict = rule.judge(tally, final=gates_left == 1)
        if not verdict.healthy:
            return verdict
    return verdict


def _binomial(trials: int, rate: float, rng: random.Random) -> int:
    """A Binomial(trials, rate) draw: by geometric gaps between successes while they are
    few (exact), else by Hoermann's transformed rejection with squeeze (BTRS, 1993; exact,
    and as cheap however many trials). Python 3.12's ``random.binomialvariate`` is the same
    algorithm; 3.11 has none."""
    if rate <= 0 or trials <= 0:
        return 0
    if rate >= 1:
        return trials
    if rate > 0.5:
        return trials - _binomial(trials, 1 - rate, rng)
    if trials * rate < 10:
        count, position = 0, 0
        gap = math.log1p(-rate)
        while True:
            position += int(math.log(1 - rng.random()) / gap) + 1
            if position > trials:
                return count
            count += 1
    spread = math.sqrt(trials * rate * (1 - rate))
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * rate
    c = trials * rate + 0.5
    squeeze = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spread
    log_odds = math.log(rate / (1 - rate))
    mode = math.floor((trials + 1) * rate)
    log_mode = math.lgamma(mode + 1) + math.lgamma(trials - mode + 1)
    while True:
        u = rng.random() - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if not 0 <= k <= trials:
            continue
        v = rng.random()
        if us >= 0.07 and v <= squeeze:
            return k
        v *= alpha / (a / (us * us) + b)
        log_k = log_mode - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
        if math.log(v) <= log_k + (k - mode) * log_odds:
            return k


_CALLERS = 1 << 30
"""Each period's invocations are Binomial(_CALLERS, mean / _CALLERS): many potential calls,
each rarely made, which is Poisson(mean) to within mean / _CALLERS in total variation
(Barbour and Hall 1984), some 1e-6 at the traffic simulated."""


def simulate_traffic_rollout(
    rule: GateRule,
    weights: Sequence[float],
    invocations: int,
    p0: float,
    p1: float,
    rng: random.Random,
    *,
    periods_per_step: int = 1,
    settle_periods: int = 0,
    drift: float = 0.0,
) -> TrafficVerdict:
    """One simulated rollout gated on real traffic, judged as ``MetricsGate`` judges it: one
    window per CloudWatch period. Each step at its weight (``weights``) lasts
    ``periods_per_step`` periods and sends ``invocations`` through the alias on average,
    each period's count drawn at random (Poisson) and each invocation routed to the new
    version with the step's weight (binomial, so the split is noisy). An invocation fails
    with probability ``p0`` on the old version and ``p1`` on the new, both rising by
    ``drift`` in all, evenly from the first period of the rollout to its last. A gate after
    the first also reads ``settle_periods`` periods at the previous step's weight first:
    the periods in which the previous gate waited for its data to settle (its ``settle``
    delay, in periods), as ``MetricsGate`` reads them. The verdict of the gate that rolled
    back, or of the last gate."""
    if not weights:
        raise ValueError("a rollout has at least one gate")
    if periods_per_step < 1 or settle_periods < 0:
        raise ValueError("a step has at least one period, and settling none or more")
    per_period = invocations / periods_per_step
    # The weight of every period the gates read, in order, with the gate that reads it.
    periods: list[tuple[int, float]] = []
    for gate, weight in enumerate(weights):
        if gate:
            periods += [(gate, weights[gate - 1])] * settle_periods
        periods += [(gate, weight)] * periods_per_step
    tally = TrafficTally()
    for index, (gate, weight) in enumerate(periods):
        rise = drift * index / max(1, len(periods) - 1)
        total = _binomial(_CALLERS, per_period / _CALLERS, rng)
        new = _binomial(total, weight, rng)
        old = total - new
        tally = tally.add(
            TrafficWindow(old, _binomial(old, p0 + rise, rng), new, _binomial(new, p1 + rise, rng))
        )
        if index + 1 < len(periods) and periods[index + 1][0] == gate:
            continue  # the gate judges once it has read all its periods
        verdict = rule.judge_traffic(tally, final=gate == len(weights) - 1)
        if not verdict.healthy:
            return verdict
    return verdict
