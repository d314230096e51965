"""Evaluator: checks each submitted plan in the twin (buying the sim time) and rules on it."""

from __future__ import annotations

from economy import Action, Complete, JobState, Observation, Reject, Simulate

__all__ = ["Evaluator", "evaluate_jobs"]


def evaluate_jobs(obs: Observation, pending: set[int]) -> list[Action]:
    """The evaluator's duty, shared by third-party evaluators and self-evaluating customers.

    A submitted job is simulated once (the evaluator pays for the sim time); when the result
    arrives the job is completed if the plan is valid and no slower than the job's
    `max_time_ms`, and rejected otherwise.

    Args:
        obs: this tick's observation.
        pending: job ids already sent to simulation (updated in place).
    """
    actions: list[Action] = []
    decided: set[int] = set()
    for result in obs.results:
        if result.job_id not in pending:
            continue
        pending.discard(result.job_id)
        decided.add(result.job_id)
        ev = result.evaluations[0]
        job = next((j for j in obs.jobs if j.job_id == result.job_id), None)
        if job is None or job.state is not JobState.SUBMITTED:
            continue
        if ev.valid and ev.time_ms <= job.max_time_ms:
            actions.append(Complete(job_id=job.job_id, reason=f"time_ms={ev.time_ms}"))
        else:
            why = ev.reason if not ev.valid else f"time_ms={ev.time_ms}>{job.max_time_ms}"
            actions.append(Reject(job_id=job.job_id, reason=why))
    for job in obs.jobs:
        if (job.evaluator == obs.address and job.state is JobState.SUBMITTED
                and job.plan is not None and job.job_id not in pending
                and job.job_id not in decided):
            pending.add(job.job_id)
            actions.append(Simulate(job_id=job.job_id, plans=(job.plan,)))
    return actions


class Evaluator:
    """A third-party evaluator paid a fee per completed job."""

    def __init__(self) -> None:
        self._pending: set[int] = set()

    def reset(self, seed: int) -> None:
        self._pending = set()

    def act(self, observation: Observation) -> list[Action]:
        return evaluate_jobs(observation, self._pending)
