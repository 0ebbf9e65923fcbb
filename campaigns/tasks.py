"""Thin Celery wrappers around campaigns.services: ids in, one service call, safe to run twice."""

from celery import shared_task

from . import answers, generation


@shared_task(
    autoretry_for=(OSError, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=3,
    acks_late=True,
)
def render_letter_chunk(chunk_id: int) -> bool:
    return generation.chunk_render(chunk_id=chunk_id)


@shared_task
def sweep_letter_chunks() -> int:
    return generation.chunks_sweep()


@shared_task
def erase_expired_invitees() -> int:
    return answers.campaign_erase_expired()
