"""The gate's rule on real traffic (``MetricsGate``'s), without an event loop: its parts against
first principles, and a seeded, fast version of ``bench/rollout_simulation.py``'s traffic
scenario holding it to its contract."""

from __future__ import annotations

import itertools
import json
import math
import random
import statistics
from collections.abc import Sequence
from fractions import Fraction

import pytest

from lambdaclient.errors import ValidationError
from lambdaclient.shifting import (
    Canary,
    GateRule,
    Linear,
    PairTally,
    TrafficTally,
    TrafficVerdict,
    TrafficWindow,
    simulate_traffic_rollout,
    stratified_exact_p_value,
)
from tests.test_gate import MINUTE, SEED, wilson


def exact_tail(windows: Sequence[TrafficWindow]) -> Fraction:
    """P(the new version has at least its observed errors) when every set of failed
    invocations of each window's size is equally likely: counted over every such set."""
    observed = sum(w.new_errors for w in windows)
    choices = [
        # Invocations 0..n1-1 are the new version's.
        list(itertools.combinations(range(w.new_invocations + w.old_invocations), w.errors))
        for w in windows
    ]
    hits = total = 0
    for failed in itertools.product(*choices):
        total += 1
        new = sum(
            sum(i < w.new_invocations for i in chosen)
            for w, chosen in zip(windows, failed, strict=True)
        )
        hits += new >= observed
    return Fraction(hits, total)


def tally(*windows: TrafficWindow) -> TrafficTally:
    return TrafficTally(windows)


@pytest.mark.parametrize(
    "windows",
    [
        [TrafficWindow(6, 1, 3, 2)],
        [TrafficWindow(6, 3, 3, 0)],
        [TrafficWindow(5, 1, 2, 2), TrafficWindow(3, 1, 5, 2)],
        [TrafficWindow(4, 0, 4, 3), TrafficWindow(7, 2, 1, 1)],
    ],
)
def test_the_exact_test_counts_every_equally_likely_set_of_failures(
    windows: list[TrafficWindow],
) -> None:
    assert stratified_exact_p_value(windows) == pytest.approx(float(exact_tail(windows)))


def counted_tail(windows: Sequence[TrafficWindow], observed: int) -> Fraction:
    """The same tail, by integer counts: the ways each window's errors can fall among its
    invocations, k of them on the new version's, convolved over the windows."""
    ways, total = [1], 1
    for w in windows:
        split = [
            math.comb(w.new_invocations, k) * math.comb(w.old_invocations, w.errors - k)
            for k in range(w.errors + 1)
        ]
        merged = [0] * (len(ways) + len(split) - 1)
        for i, a in enumerate(ways):
            for j, b in enumerate(split):
                merged[i + j] += a * b
        ways, total = merged, total * math.comb(w.old_invocations + w.new_invocations, w.errors)
    return Fraction(sum(ways[observed:]), total)


def with_new_errors(windows: list[TrafficWindow], z: float) -> list[TrafficWindow]:
    """The windows, with the new version's errors z standard deviations above what it would
    have if both versions failed alike (the last window takes them)."""
    mean = sum(w.errors * w.new_share for w in windows)
    variance = sum(
        w.errors * w.new_share * (1 - w.new_share) * (n - w.errors) / (n - 1)
        for w in windows
        for n in [w.old_invocations + w.new_invocations]
    )
    extra = math.ceil(mean + z * math.sqrt(variance)) - sum(w.new_errors for w in windows)
    *rest, last = windows
    moved = TrafficWindow(
        last.old_invocations, last.old_errors - extra, last.new_invocations, last.new_errors + extra
    )
    return [*rest, moved]


# Windows as per-minute CloudWatch periods give them: each with its own split and errors.
FEW_ERRORS = [
    *(TrafficWindow(400 + 37 * i, i % 5, 60 + 11 * i, 0) for i in range(30)),
    TrafficWindow(900, 20, 100, 2),
    TrafficWindow(700, 40, 300, 5),
]
MANY_ERRORS = [TrafficWindow(3000, 60, 1000, 20), TrafficWindow(1000, 250, 1000, 250)]


@pytest.mark.parametrize("z", [0.0, 1.0, 2.0, 2.5, 3.0, 3.5])
def test_the_exact_test_agrees_with_integer_counts_few_errors_or_many(z: float) -> None:
    # Exactly, where the errors are few (the convolution, trimmed of terms below 1e-20 of
    # the largest); within 2% where the p-value decides, where they are many (the
    # Edgeworth expansion, from a variance of 100).
    few = with_new_errors(FEW_ERRORS, z)
    observed = sum(w.new_errors for w in few)
    assert stratified_exact_p_value(few) == pytest.approx(float(counted_tail(few, observed)))
    many = with_new_errors(MANY_ERRORS, z)
    observed = sum(w.new_errors for w in many)
    assert stratified_exact_p_value(many) == pytest.approx(
        float(counted_tail(many, observed)), rel=0.02
    )


def test_windows_with_one_version_or_no_errors_change_nothing() -> None:
    windows = [TrafficWindow(900, 20, 100, 6), TrafficWindow(500, 9, 500, 14)]
    idle = [TrafficWindow(), TrafficWindow(50, 0, 50, 0), TrafficWindow(0, 0, 40, 3)]
    idle += [TrafficWindow(60, 2, 0, 0)] * 500
    rule = GateRule()
    mixed = [*idle[:2], windows[0], *idle[2:], windows[1]]
    assert stratified_exact_p_value(mixed) == stratified_exact_p_value(windows)
    assert rule.traffic_likelihood_ratio(TrafficTally(tuple(mixed))) == pytest.approx(
        rule.traffic_likelihood_ratio(TrafficTally(tuple(windows)))
    )
    assert stratified_exact_p_value(idle) == 1


def test_only_windows_where_both_versions_served_carry_evidence() -> None:
    rule = GateRule()
    one_sided = tally(TrafficWindow(1000, 20, 0, 0), TrafficWindow(0, 0, 500, 50))
    assert rule.traffic_likelihood_ratio(one_sided) == 1
    assert rule.required_invocations(one_sided) is None
    verdict = rule.judge_traffic(one_sided, final=True)
    assert not verdict.healthy
    assert verdict.reason == (
        "too little traffic: 500 invocations of the new version and 1000 of the old,"
        " never both in one window"
    )


def test_no_traffic_passes_a_gate_before_the_last_but_never_the_last() -> None:
    rule = GateRule()
    assert rule.judge_traffic(tally(TrafficWindow()), final=False).healthy
    verdict = rule.judge_traffic(tally(TrafficWindow()), final=True)
    assert not verdict.healthy
    assert verdict.reason == "too little traffic: no invocations through the alias"


def test_too_little_traffic_at_the_last_gate_fails_saying_how_much_was_needed() -> None:
    rule = GateRule()
    few = tally(TrafficWindow(900, 18, 100, 2))  # errors as often on both: no sign of harm
    required = rule.required_invocations(few)
    assert required is not None
    assert required > 100
    assert rule.judge_traffic(few, final=False).healthy
    verdict = rule.judge_traffic(few, final=True)
    assert not verdict.healthy
    assert verdict.p_value is None
    assert verdict.reason == (
        f"too little traffic: the new version served 100 invocations where {required} are"
        " needed at this traffic mix"
    )
    # The same mix, scaled to what was asked for, is judged by the exact test.
    scale = math.ceil(required / 100)
    enough = tally(TrafficWindow(900 * scale, 18 * scale, 100 * scale, 2 * scale))
    passed = rule.judge_traffic(enough, final=True)
    assert passed.healthy
    assert passed.p_value is not None
    assert passed.p_value > rule.final_alpha
    assert passed.reason.startswith("no higher error rate: exact test p = ")


def test_the_traffic_needed_follows_the_split_and_the_old_versions_error_rate() -> None:
    rule = GateRule()
    canary = rule.required_invocations(tally(TrafficWindow(900, 18, 100, 2)))
    even = rule.required_invocations(tally(TrafficWindow(500, 10, 500, 10)))
    failing = rule.required_invocations(tally(TrafficWindow(900, 90, 100, 10)))
    assert canary is not None
    assert even is not None
    assert failing is not None
    # At 10% the old version's many invocations pin its rate down: the new version needs
    # fewer of its own than at 50%, though the alias serves more in all (9 old per new).
    assert canary < even < 10 * canary / 2
    assert failing > canary
    hopeless = tally(TrafficWindow(100, 97, 100, 97))
    assert rule.required_invocations(hopeless) is None
    verdict = rule.judge_traffic(hopeless, final=True)
    assert not verdict.healthy
    assert verdict.reason.startswith("too little evidence: the old version fails 97.0%")


@pytest.mark.parametrize(
    "first", [TrafficWindow(1, 1, 1, 0), TrafficWindow(3, 2, 1, 0), TrafficWindow(100, 97, 100, 97)]
)
def test_an_old_version_failing_often_in_early_windows_fails_no_gate_before_the_last(
    first: TrafficWindow,
) -> None:
    rule = GateRule()
    assert rule.judge_traffic(tally(first), final=False).healthy
    # Later windows show the old version's rate was a fluke, and size the traffic needed.
    later = tally(first, TrafficWindow(900, 18, 100, 2))
    assert rule.judge_traffic(later, final=False).healthy
    assert rule.required_invocations(later) is not None


def test_errors_piling_up_on_the_new_version_fail_at_any_gate() -> None:
    rule = GateRule()
    bad = tally(TrafficWindow(900, 9, 100, 15))
    verdict = rule.judge_traffic(bad, final=False)
    assert not verdict.healthy
    assert verdict.likelihood_ratio >= verdict.threshold == 1 / rule.sequential_alpha
    assert verdict.reason.startswith("the new version fails more often: likelihood ratio")
    # The same errors spread by the traffic's split carry no such weight.
    fair = rule.judge_traffic(tally(TrafficWindow(900, 22, 100, 2)), final=False)
    assert fair.healthy
    assert fair.likelihood_ratio < 1


def test_overwhelming_evidence_is_judged_and_shown_as_a_finite_ratio() -> None:
    # Its likelihood ratio is e^1470, past what a float holds.
    rule = GateRule()
    verdict = rule.judge_traffic(tally(TrafficWindow(100_000, 2000, 100_000, 7000)), final=False)
    assert not verdict.healthy
    assert verdict.likelihood_ratio == 1e300
    assert json.loads(json.dumps(verdict.likelihood_ratio, allow_nan=False)) == 1e300
    assert verdict.reason.startswith("the new version fails more often: likelihood ratio ")
    assert "e+638 >= 500" in verdict.reason
    simulated = simulate_traffic_rollout(rule, [0.5], 200_000, 0.02, 0.5, random.Random(SEED))
    assert not simulated.healthy
    paired = rule.judge(PairTally(5000, 3000), final=False)
    assert paired.likelihood_ratio == 1e300
    assert "likelihood ratio 3.257e+590 >= 500" in paired.reason


@pytest.mark.parametrize(
    ("field", "window"),
    [
        ("old_errors", {"old_invocations": 1, "old_errors": 2}),
        ("new_errors", {"new_invocations": 0, "new_errors": 1}),
        ("new_invocations", {"new_invocations": -1}),
        ("old_invocations", {"old_invocations": 1.5}),
    ],
)
def test_impossible_counts_are_refused_by_name(field: str, window: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        TrafficWindow(**window)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- the contract, simulated -----------------------------------------------------------------


def rollouts(
    strategy: Canary | Linear,
    p0: float,
    p1: float,
    trials: int,
    rng: random.Random,
    drift: float = 0.0,
) -> list[TrafficVerdict]:
    """Rollouts read as MetricsGate reads them: one window per period, traffic split per
    invocation, and from the second gate a period still at the previous weight
    (bench/rollout_simulation.py runs 5 periods per step and 3 of settling; fewer here, for
    speed), at just the traffic invocations_per_step asks for."""
    rule = GateRule()
    weights = [step.weight for step in strategy.steps()]
    per_step = rule.invocations_per_step(weights)
    return [
        simulate_traffic_rollout(
            rule, weights, per_step, p0, p1, rng, periods_per_step=1, settle_periods=1, drift=drift
        )
        for _ in range(trials)
    ]


def by_the_tests(verdicts: list[TrafficVerdict]) -> int:
    return sum(not v.healthy and not v.reason.startswith("too little") for v in verdicts)


@pytest.mark.parametrize(
    ("strategy", "trials"),
    [(Canary(0.1, MINUTE), 10_000), (Linear(0.1, MINUTE), 6000)],
    ids=["canary", "linear"],
)
def test_simulated_rollouts_on_traffic_keep_the_contract(
    strategy: Canary | Linear, trials: int
) -> None:
    # bench/rollout_simulation.py runs 40,000 rollouts per case; this is its seeded sample.
    # False rollbacks run at about half their bound: enough rollouts to show it (a Canary's
    # are cheap: one gate).
    rule = GateRule()
    rng = random.Random(SEED)
    p0 = rule.baseline_error_rate
    healthy = rollouts(strategy, p0, p0, trials, rng)
    assert wilson(by_the_tests(healthy), len(healthy))[1] <= rule.false_rollback_rate
    bad = rollouts(strategy, p0, p0 + rule.max_error_rate, 1000, rng)
    assert wilson(sum(not v.healthy for v in bad), len(bad))[0] >= rule.detection_rate


@pytest.mark.parametrize(
    "strategy",
    [
        Canary(0.1, MINUTE),
        Linear(0.1, MINUTE),
    ],
    ids=["canary", "linear"],
)
def test_a_healthy_release_sent_the_traffic_asked_for_passes(strategy: Canary | Linear) -> None:
    rule = GateRule()
    p0 = rule.baseline_error_rate
    healthy = rollouts(strategy, p0, p0, 2000, random.Random(SEED + 1))
    assert wilson(sum(not v.healthy for v in healthy), len(healthy))[1] <= 0.025


def test_error_rates_drifting_alike_during_the_shift_roll_no_healthy_release_back() -> None:
    # Both versions' error rates rise from 0.5% to 10.5% during the shift: each gate's first
    # window is at the previous step's weight, at a lower rate; one window across both
    # weights would blame the new version for the rise. False rollbacks run nearer their
    # bound here (about 0.7%: many errors make the tests nearly exact), so showing it takes
    # many rollouts (at 6,000 the interval's upper end lands on either side of 1% by seed):
    # of Linear(0.3), three gates, for speed.
    rule = GateRule()
    rng = random.Random(SEED)
    strategy = Linear(0.3, MINUTE)
    healthy = rollouts(strategy, 0.005, 0.005, 15000, rng, drift=0.1)
    assert wilson(by_the_tests(healthy), len(healthy))[1] <= rule.false_rollback_rate
    bad = rollouts(strategy, 0.005, 0.005 + rule.max_error_rate, 600, rng, drift=0.1)
    assert wilson(sum(not v.healthy for v in bad), len(bad))[0] >= rule.detection_rate


def test_simulated_traffic_is_read_per_period_with_the_settle_at_the_previous_weight() -> None:
    rule = GateRule()
    weights = [0.2, 0.6]
    windows: list[TrafficWindow] = []
    rng = random.Random(SEED)
    for _ in range(200):
        verdict = simulate_traffic_rollout(
            rule, weights, 10_000, 0.0, 0.0, rng, periods_per_step=4, settle_periods=2
        )
        assert verdict.healthy
        assert len(verdict.tally.windows) == 4 + 2 + 4
        windows += verdict.tally.windows
    # Per rollout: four periods at 20%, two more of them read by the second gate, four at 60%.
    at_weight: dict[float, list[TrafficWindow]] = {0.2: [], 0.6: []}
    for index, window in enumerate(windows):
        at_weight[0.2 if index % 10 < 6 else 0.6].append(window)
    for weight, read in at_weight.items():
        total = sum(read, TrafficWindow())
        invocations = total.old_invocations + total.new_invocations
        assert invocations / len(read) == pytest.approx(2500, rel=0.01)
        assert total.new_share == pytest.approx(weight, abs=0.005)
        # Noisy: each period's count and split vary, as Poisson and binomial draws do.
        counts = [w.old_invocations + w.new_invocations for w in read]
        assert statistics.variance(counts) == pytest.approx(2500, rel=0.25)
