"""Trajectory use cases (the stop-smoking pathway)."""


def trajectory_open_for_referral(*, referral, actor) -> None:
    """Called when a referral is accepted; opens the stop-smoking trajectory (pathways issue)."""
