"""How often the rollout gate decides wrongly: simulated rollouts, no I/O.

Each rollout is ``lambdaclient.shifting.simulate_rollout``: the gate's own decision code
(``GateRule``, ``PairTally``) over simulated probe pairs in which the old version fails with
probability p0 and the new one with p1, independently, gate by gate as ``InvokeProbe`` runs
them: each gate runs its share of the budget, the last one tops it up, the continuous check
looks after every pair, the sign test at the last gate. It prints, per strategy and error
rates, the share of rollouts rolled back with a Wilson 95% confidence interval, and the probe
calls spent per rollout.

The traffic scenario does the same for ``MetricsGate``: ``simulate_traffic_rollout`` sends
traffic through the alias as the gate reads it, one window per CloudWatch period (5 per
step, ``--periods-per-step``), each period's invocations Poisson around the step's rate and
each routed to the new version with the step's weight (so the split is noisy), errors at p0
and p1; from the second gate on, a gate first reads the periods its predecessor spent
settling at the previous weight (3, ``--settle-periods``: a 180 s settle at 60 s periods).
Judged by ``GateRule.judge_traffic`` after each gate's periods. The traffic per step is
exactly ``GateRule.invocations_per_step``, then twice that, with the old version at the
baseline and the new one as good or 5 points worse; then both versions' error rates
drifting up alike by 10 points during the shift (from 0.5%), where a window across two
weights would blame the new version for the rise. The "95% CI" is of every rollback for a
bad version, of those by the tests for a healthy one (the contract's bound); the last
column of every rollback, which for a healthy release at the baseline must stay at or under
2.5% (it passes in at least 97.5% of rollouts; with the rates drifting past the baseline,
too little traffic is expected).

    python bench/rollout_simulation.py            # the full run (a few minutes)
    python bench/rollout_simulation.py --quick    # a tenth of the trials
    python bench/rollout_simulation.py --scenario traffic
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import attrs

from lambdaclient.shifting import (
    Canary,
    GateRule,
    Linear,
    Strategy,
    simulate_rollout,
    simulate_traffic_rollout,
)

Z95 = 1.959963984540054

HEALTHY_SHORT_OF_PASS = 0.025
"""The most healthy rollouts (the old version at or under the baseline) that may fail to pass
at ``invocations_per_step``: rolled back by the tests or short of traffic."""


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score 95% interval for a proportion."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    scale = 1 + Z95**2 / trials
    centre = (share + Z95**2 / (2 * trials)) / scale
    half = Z95 * math.sqrt(share * (1 - share) / trials + Z95**2 / (4 * trials**2)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


@attrs.frozen
class Case:
    label: str
    p0: float
    p1: float
    bad: bool  # True: rolling back is right; False: rolling back is a false rollback
    in_contract: bool = True


def cases(rule: GateRule) -> Iterator[Case]:
    delta = rule.max_error_rate
    for p0 in (0.0, 0.005, 0.01, 0.02, 0.05, 0.1):
        in_contract = p0 <= rule.baseline_error_rate
        yield Case("healthy (new = old)", p0, p0, False, in_contract)
        if 0 < p0 <= rule.baseline_error_rate:
            yield Case("better (new = old / 2)", p0, p0 / 2, False, in_contract)
        yield Case(f"bad (new = old + {delta:.0%})", p0, p0 + delta, True, in_contract)


def trials_for(case: Case, full: int) -> int:
    """The worst cases in the contract (old at 2%, new equal or 5 points worse) get the full
    count, the rest of the contract a quarter, the old version beyond the baseline a tenth."""
    if not case.in_contract:
        return full // 10
    return full if case.p0 == 0.02 and case.p1 != case.p0 / 2 else full // 4


STRATEGIES: list[tuple[str, Strategy]] = [
    ("Canary(0.1)", Canary(0.1, timedelta(minutes=5))),
    ("Linear(0.1)", Linear(0.1, timedelta(minutes=1))),
]


def probe_scenario(rule: GateRule, full: int, rng: random.Random) -> int:
    """The probe's rates per strategy and case; the number of cases outside the contract."""
    print(
        f"budget at the defaults: {rule.budget} pairs ({2 * rule.budget} invocations),"
        f" at most {rule.max_pairs} pairs\n"
    )
    header = (
        f"{'strategy':<12} {'p0':>5} {'p1':>5} {'case':<24} {'trials':>6}"
        f" {'rolled back':>11} {'95% CI':>17} {'calls mean':>10} {'calls max':>9}"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    for name, strategy in STRATEGIES:
        gates = len(strategy.steps())
        for case in cases(rule):
            trials = trials_for(case, full)
            runs = [simulate_rollout(rule, gates, case.p0, case.p1, rng) for _ in range(trials)]
            rolled_back = sum(not run.healthy for run in runs)
            low, high = wilson(rolled_back, trials)
            calls = [2 * run.tally.pairs for run in runs]
            meets = high <= rule.false_rollback_rate if not case.bad else low >= 0.95
            failures += case.in_contract and not meets
            note = "" if meets else "  <- outside the contract"
            print(
                f"{name:<12} {case.p0:>5.1%} {case.p1:>5.1%} {case.label:<24} {trials:>6}"
                f" {rolled_back / trials:>11.2%} {f'[{low:.2%}, {high:.2%}]':>17}"
                f" {sum(calls) / trials:>10.0f} {max(calls):>9}"
                + (note if case.in_contract else "  (old beyond the baseline: no contract)")
            )
    return failures


@attrs.frozen
class TrafficCase:
    label: str
    p0: float
    p1: float
    bad: bool
    drift: float = 0.0  # both versions' error rates rise by this much over the rollout


def traffic_cases(rule: GateRule) -> list[TrafficCase]:
    """The old version at the baseline, the new one as good or ``max_error_rate`` worse; and
    both versions' error rates drifting up alike by 10 points during the shift (from 0.5%),
    where windows across two weights would roll healthy releases back."""
    p0, delta = rule.baseline_error_rate, rule.max_error_rate
    return [
        TrafficCase("healthy (new = old)", p0, p0, False),
        TrafficCase(f"bad (new = old + {delta:.0%})", p0, p0 + delta, True),
        TrafficCase("healthy, both drift +10%", 0.005, 0.005, False, 0.1),
        TrafficCase("bad, both drift +10%", 0.005, 0.005 + delta, True, 0.1),
    ]


def traffic_scenario(
    rule: GateRule, full: int, rng: random.Random, periods_per_step: int, settle_periods: int
) -> int:
    """MetricsGate's rates per strategy, traffic and case; the number of cases outside the
    contract (a healthy version's rollbacks by the tests, and all of them with the old version
    at the baseline; a bad version's by any reason)."""
    header = (
        f"{'strategy':<12} {'traffic':>7} {'per step':>8} {'p0':>5} {'p1':>5} {'case':<26}"
        f" {'trials':>6} {'rolled back':>11} {'95% CI':>17} {'by tests':>8} {'too little':>10}"
        f" {'all: 95% CI':>17}"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    for name, strategy in STRATEGIES:
        weights = [step.weight for step in strategy.steps()]
        for margin in (1.0, 2.0):
            per_step = math.ceil(margin * rule.invocations_per_step(weights))
            for case in traffic_cases(rule):
                trials = full // 2 if case.bad else full
                runs = [
                    simulate_traffic_rollout(
                        rule,
                        weights,
                        per_step,
                        case.p0,
                        case.p1,
                        rng,
                        periods_per_step=periods_per_step,
                        settle_periods=settle_periods,
                        drift=case.drift,
                    )
                    for _ in range(trials)
                ]
                rolled_back = sum(not run.healthy for run in runs)
                short = sum(run.reason.startswith("too little") for run in runs)
                by_tests = rolled_back - short
                every = wilson(rolled_back, trials)
                if case.bad:
                    low, high = every
                    meets = low >= rule.detection_rate
                else:
                    low, high = wilson(by_tests, trials)
                    meets = high <= rule.false_rollback_rate
                    # invocations_per_step is the traffic at which a healthy release passes
                    # when the old version fails at the baseline rate (not when it drifts).
                    meets &= case.drift > 0 or every[1] <= HEALTHY_SHORT_OF_PASS
                failures += not meets
                print(
                    f"{name:<12} {f'{margin:g}x':>7} {per_step:>8} {case.p0:>5.1%}"
                    f" {case.p1:>5.1%} {case.label:<26} {trials:>6}"
                    f" {rolled_back / trials:>11.2%} {f'[{low:.2%}, {high:.2%}]':>17}"
                    f" {by_tests / trials:>8.2%} {short / trials:>10.2%}"
                    f" {f'[{every[0]:.2%}, {every[1]:.2%}]':>17}"
                    + ("" if meets else "  <- outside the contract")
                )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40_000)
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--scenario", choices=["probe", "traffic", "all"], default="all")
    parser.add_argument(
        "--periods-per-step", type=int, default=5, help="traffic: CloudWatch periods per step"
    )
    parser.add_argument(
        "--settle-periods",
        type=int,
        default=3,
        help="traffic: periods a gate reads at the previous weight (its predecessor's settle)",
    )
    args = parser.parse_args(argv)
    full = args.trials // 10 if args.quick else args.trials
    rule = GateRule()
    print(
        f"GateRule defaults: max_error_rate={rule.max_error_rate},"
        f" baseline_error_rate={rule.baseline_error_rate},"
        f" false_rollback_rate={rule.false_rollback_rate},"
        f" detection_rate={rule.detection_rate}\n"
    )
    rng = random.Random(args.seed)
    started = time.perf_counter()
    failures = 0
    if args.scenario in ("probe", "all"):
        print("InvokeProbe: paired probe calls\n")
        failures += probe_scenario(rule, full, rng)
    if args.scenario in ("traffic", "all"):
        print(
            f"\nMetricsGate: traffic through the alias at each step's weight, one window per"
            f" period, {args.periods_per_step} periods per step, {args.settle_periods} more at"
            " the previous weight from the second gate; the CI is of the rollbacks for a bad"
            " version, of those by the tests for the others\n"
        )
        failures += traffic_scenario(rule, full, rng, args.periods_per_step, args.settle_periods)
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
