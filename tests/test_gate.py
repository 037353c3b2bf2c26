"""The rollout gate's decision rule, without an event loop: its parts against first principles,
and a seeded, fast version of ``bench/rollout_simulation.py`` holding it to its contract."""

from __future__ import annotations

import io
import itertools
import math
import random
from datetime import UTC, datetime, timedelta
from statistics import NormalDist
from typing import Any

import pytest

from lambdaclient.errors import ValidationError
from lambdaclient.shifting import (
    Canary,
    GateRule,
    InvokeProbe,
    Linear,
    PairTally,
    VersionStats,
    simulate_rollout,
)

SEED = 20261202
MINUTE = timedelta(minutes=1)


def theta(p0: float, p1: float) -> float:
    """The chance that the new version is the one that failed in a discordant pair."""
    return p1 * (1 - p0) / (p1 * (1 - p0) + p0 * (1 - p1))


def wilson(successes: int, trials: int) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.975)
    share = successes / trials
    scale = 1 + z**2 / trials
    centre = (share + z**2 / (2 * trials)) / scale
    half = z * math.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / scale
    return centre - half, centre + half


# --- what a gate reports --------------------------------------------------------------------


def test_version_stats_percentiles_are_nearest_rank_and_add_up() -> None:
    first = VersionStats(6, 1, [0.6, 0.1, 0.5, 0.2, 0.4, 0.3])
    second = VersionStats(4, 2, [1.0, 0.7, 0.9, 0.8])
    total = first + second

    assert (first.p50_latency, first.p90_latency, first.max_latency) == (0.3, 0.6, 0.6)
    assert (total.invocations, total.errors, total.error_rate) == (10, 3, 0.3)
    # Of ten calls, the fifth and the ninth fastest.
    assert (total.p50_latency, total.p90_latency) == (0.5, 0.9)
    assert total.mean_latency == pytest.approx(0.55)
    untimed = VersionStats(3, 0)
    assert (untimed.p50_latency, untimed.p90_latency, untimed.mean_latency) == (None, None, None)


# --- the continuous check ----------------------------------------------------------------------


def test_likelihood_ratio_moves_only_on_discordant_pairs() -> None:
    rule = GateRule()
    theta1 = theta(rule.baseline_error_rate, rule.baseline_error_rate + rule.max_error_rate)
    tally = PairTally()
    expected = 1.0
    for old_failed, new_failed in [(False, True), (False, False), (True, True), (True, False)]:
        tally = tally.record(old_failed, new_failed)
        if new_failed and not old_failed:
            expected *= 2 * theta1
        elif old_failed and not new_failed:
            expected *= 2 * (1 - theta1)
        assert rule.likelihood_ratio(tally) == pytest.approx(expected, rel=1e-12)
    assert (tally.pairs, tally.new_only, tally.old_only, tally.both_failed) == (4, 1, 1, 1)


def test_continuous_check_crosses_at_the_threshold() -> None:
    rule = GateRule()
    k = next(k for k in itertools.count() if rule.likelihood_ratio(PairTally(k, k)) >= 500)
    # Crossing at 1 / alpha_v keeps the continuous check's false rollbacks within alpha_v
    # (Ville's inequality), and the final test spends the rest of the rate.
    assert rule.threshold == pytest.approx(1 / rule.sequential_alpha)
    assert rule.sequential_alpha + rule.final_alpha == pytest.approx(rule.false_rollback_rate)
    assert not rule.crossed(PairTally(k - 1, k - 1))
    assert rule.crossed(PairTally(k, k))
    assert not rule.crossed(PairTally(k + 1, k, 1))  # an old-only failure takes it back


def test_the_old_versions_rate_drops_out() -> None:
    # theta <= 1/2 exactly when the new version fails no more often, whatever p0 is.
    for p0, p1 in itertools.product([0.001, 0.01, 0.2, 0.5, 0.9], repeat=2):
        assert (theta(p0, p1) <= 0.5) is (p1 <= p0)


# --- the final test ----------------------------------------------------------------------------


@pytest.mark.parametrize("discordant", range(13))
def test_sign_test_matches_counting_every_outcome(discordant: int) -> None:
    rule = GateRule()
    outcomes = list(itertools.product([0, 1], repeat=discordant))
    for new_only in range(discordant + 1):
        tally = PairTally(rule.budget, new_only, discordant - new_only)
        at_least = sum(sum(outcome) >= new_only for outcome in outcomes)
        assert rule.judge(tally, final=True).p_value == at_least / len(outcomes)


def test_final_gate_rejects_by_the_sign_test() -> None:
    rule = GateRule()
    budget = rule.budget
    # The fewest new-only failures out of 20 discordant pairs that the test rejects.
    k = next(
        k for k in range(21) if math.fsum(math.comb(20, i) for i in range(k, 21)) / 2**20 <= 0.008
    )
    rejected = rule.judge(PairTally(budget, k, 20 - k), final=True)
    passed = rule.judge(PairTally(budget, k - 1, 21 - k), final=True)
    assert not rejected.healthy
    assert rejected.reason.startswith("the new version fails more often: sign test p = ")
    assert rejected.p_value is not None
    assert rejected.p_value <= rule.final_alpha < (passed.p_value or 0)
    assert passed.healthy
    # Before the last gate only the continuous check may fail a version.
    assert rule.judge(PairTally(budget, k, 20 - k), final=False).healthy


# --- the budget ----------------------------------------------------------------------------------


def normal_power(rule: GateRule, pairs: int) -> float:
    """The normal approximation's power of the final test with ``pairs`` pairs."""
    p0 = rule.baseline_error_rate
    p1 = p0 + rule.max_error_rate
    q1, q0 = p1 * (1 - p0), p0 * (1 - p1)
    psi, delta = q1 + q0, q1 - q0
    z = NormalDist().inv_cdf(1 - rule.final_alpha)
    return NormalDist().cdf(
        (delta * math.sqrt(pairs) - z * math.sqrt(psi)) / math.sqrt(psi - delta**2)
    )


def test_budget_is_the_fewest_pairs_reaching_the_stated_power() -> None:
    rule = GateRule()
    power = rule.detection_rate
    assert normal_power(rule, rule.budget) >= power > normal_power(rule, rule.budget - 1)


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("max_error_rate", [0.2, 0.1, 0.05, 0.02, 0.01]),
        ("baseline_error_rate", [0.001, 0.01, 0.02, 0.1, 0.3]),
        ("false_rollback_rate", [0.1, 0.05, 0.01, 0.001]),
        ("detection_rate", [0.6, 0.8, 0.95, 0.99]),
    ],
)
def test_budget_grows_with_every_demand(field: str, values: list[float]) -> None:
    settings: list[dict[str, Any]] = [{field: value} for value in values]
    budgets = [GateRule(**setting).budget for setting in settings]
    assert budgets == sorted(budgets)
    assert len(set(budgets)) == len(budgets)


def test_budget_grows_with_the_pooled_error_rate_whichever_side_failed() -> None:
    rule = GateRule()
    low = rule.required_pairs(PairTally(400, 5, 5, 5))
    high = rule.required_pairs(PairTally(400, 30, 30, 30))
    assert low == rule.budget  # at or below the baseline: the budget as sized
    assert high is not None
    assert high > rule.budget
    # Symmetric in new-only and old-only failures: the final test stays exact given D.
    assert rule.required_pairs(PairTally(400, 50, 10, 30)) == rule.required_pairs(
        PairTally(400, 10, 50, 30)
    )
    # An old version failing nearly always leaves no room to show a rise: no budget will do,
    # and a gate says so at once rather than move traffic on evidence that cannot decide.
    hopeless = PairTally(400, 0, 0, 395)
    assert rule.required_pairs(hopeless) is None
    verdict = rule.judge(hopeless, final=False)
    assert not verdict.healthy
    assert verdict.reason.startswith("too little evidence: at a pooled error rate of 98.8%")


@pytest.mark.parametrize("gates", [1, 2, 3, 4, 9, 19])
def test_gates_spread_the_budget_evenly_and_spend_all_of_it(gates: int) -> None:
    rule = GateRule()
    tally, shares = PairTally(), []
    for index in range(gates):
        before = tally.pairs
        ran = False
        while count := rule.pairs_to_run(tally, gates - index, ran=ran):
            tally = tally.record(False, False, count)
            ran = True
        shares.append(tally.pairs - before)
    assert sum(shares) == rule.budget
    assert max(shares) - min(shares) <= 1


def test_last_gate_tops_up_when_the_pooled_rate_calls_for_more() -> None:
    rule = GateRule()
    tally = PairTally(rule.budget, 40, 40, 20)  # the old version fails ~10% of its calls
    needed = rule.required_pairs(tally)
    assert needed is not None
    assert rule.pairs_to_run(tally, 1, ran=True) == needed - rule.budget
    assert rule.pairs_to_run(tally, 2, ran=True) == 0  # an earlier gate runs its share once


def test_budget_stops_at_max_pairs_and_the_last_gate_says_too_little_evidence() -> None:
    rule = GateRule(max_pairs=100)
    assert rule.pairs_to_run(PairTally(), 1, ran=False) == 100
    verdict = rule.judge(PairTally(100), final=True)
    assert not verdict.healthy
    assert verdict.reason.startswith(f"too little evidence: 100 pairs where {rule.budget} are")


@pytest.mark.parametrize("final", [False, True])
def test_no_pairs_never_pass(final: bool) -> None:
    verdict = GateRule().judge(PairTally(), final=final)
    assert not verdict.healthy
    assert verdict.reason == "too little evidence: no probe pairs"


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_error_rate", 0),
        ("max_error_rate", 1),
        ("max_error_rate", math.nan),
        ("max_error_rate", -0.05),
        ("max_error_rate", True),
        ("max_error_rate", "5%"),
        ("baseline_error_rate", 0),
        ("baseline_error_rate", 0.95),  # with max_error_rate 0.05, nothing left to rise to
        ("false_rollback_rate", 0),
        ("false_rollback_rate", 0.5),
        ("detection_rate", 0.5),
        ("detection_rate", 1),
        ("max_invocations", 1),
        ("max_invocations", 100.0),
        ("concurrency", 0),
        ("max_latency", 0),
        ("max_latency", -1),
        ("max_latency", math.inf),
        ("payload", io.BytesIO(b"{}")),  # read once; the probe sends it many times
        ("payload", {"when": datetime(2026, 12, 2, tzinfo=UTC)}),  # not JSON
    ],
)
def test_bad_parameters_are_refused_by_name(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        InvokeProbe(**{field: value})
    assert caught.value.field == field
    assert field in str(caught.value)


# --- the contract, simulated -----------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy", [Canary(0.1, MINUTE), Linear(0.1, MINUTE)], ids=["canary", "linear"]
)
def test_simulated_rollouts_keep_the_contract_at_the_worst_old_error_rate(
    strategy: Canary | Linear,
) -> None:
    # bench/rollout_simulation.py runs 40,000 rollouts per case; this is its seeded sample.
    rule = GateRule()
    gates = len(strategy.steps())
    rng = random.Random(SEED)
    p0 = rule.baseline_error_rate
    healthy = [simulate_rollout(rule, gates, p0, p0, rng) for _ in range(2000)]
    bad = [simulate_rollout(rule, gates, p0, p0 + rule.max_error_rate, rng) for _ in range(4000)]

    false_rollbacks = sum(not verdict.healthy for verdict in healthy)
    detected = sum(not verdict.healthy for verdict in bad)
    assert wilson(false_rollbacks, len(healthy))[1] <= rule.false_rollback_rate
    assert wilson(detected, len(bad))[0] >= rule.detection_rate
    # A healthy rollout spends its budget (rarely a little more, when the old version's
    # observed rate calls for it).
    spent = [v.tally.pairs for v in healthy if v.healthy]
    assert min(spent) == rule.budget
    assert sum(spent) / len(spent) < 1.01 * rule.budget
    # Bad versions are mostly caught by the continuous check, early.
    assert sum(v.tally.pairs for v in bad) / len(bad) < 0.75 * rule.budget


def test_a_version_as_good_as_a_flawless_one_is_never_rolled_back() -> None:
    rule = GateRule()
    rng = random.Random(SEED)
    verdicts = [simulate_rollout(rule, 9, 0.0, 0.0, rng) for _ in range(100)]
    assert all(verdict.healthy for verdict in verdicts)
    assert all(verdict.p_value == 1.0 for verdict in verdicts)
