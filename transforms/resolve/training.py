"""Train a Splink model: measured blocking rules, u by random sampling, EM per blocking rule."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import polars as pl
from splink import Linker, block_on
from splink.internals.exceptions import EMTrainingException

from transforms.config import Environment
from transforms.resolve.backend import splink_session
from transforms.resolve.blocking import choose_blocking_rules, measure_blocking_rules
from transforms.resolve.config import ResolutionConfig, Training
from transforms.resolve.linking import linker_for, register_by_dataset, term_frequencies
from transforms.resolve.registry import TF_COLUMNS
from transforms.resolve.settings import build_settings

logger = logging.getLogger(__name__)


class TrainingError(ValueError):
    """The model could not be estimated from the records at hand."""


@dataclass(frozen=True)
class TrainedModel:
    settings: dict[str, object]
    term_frequencies: dict[str, pl.DataFrame]
    blocking: pl.DataFrame

    @property
    def blocking_rules(self) -> list[str]:
        return self.blocking.filter(pl.col("chosen"))["rule"].to_list()


def training_sample(features: pl.DataFrame, max_records: int, seed: int) -> pl.DataFrame:
    """At most `max_records` records, drawn at random with a fixed seed.

    The prior, u and m are properties of the population, so a large random sample estimates
    them as well as everything does; EM's name blocks, though, grow with the square of the
    record count. Term frequencies are still taken from every record.
    """
    if features.height <= max_records:
        return features
    return features.sample(max_records, seed=seed).sort("unique_id")


def run_training_steps(linker: Linker, training: Training) -> None:
    """The configured estimation: prior from deterministic rules, u by sampling, EM per rule."""
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on(
                *cols, arrays_to_explode=[c for c in cols if c in ("postcodes", "phones")] or None
            )
            for cols in training.deterministic_rules
        ],
        recall=training.deterministic_recall,
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=training.u_max_pairs, seed=training.seed, num_chunks=training.u_chunks
    )
    trained = 0
    for columns in training.em_blocking:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
            trained += 1
        except ValueError as exc:
            # A level EM saw almost never among matches gets an m below float64's range, which
            # Splink refuses; the session's estimates are dropped and the others' kept (each
            # comparison is estimated in every session that does not block on it).
            if UNDERFLOW in str(exc):
                logger.warning("EM blocked on %s skipped: %s", columns, exc)
                continue
            raise _em_failed(columns, exc) from exc
        except EMTrainingException as exc:  # no pairs
            raise _em_failed(columns, exc) from exc
    if not trained:
        raise TrainingError(
            "expectation maximisation failed in every session of training.em_blocking"
        )


UNDERFLOW = "is below the minimum allowed"


def _em_failed(columns: list[str], exc: Exception) -> TrainingError:
    return TrainingError(
        f"expectation maximisation blocked on {columns} failed ({exc}); this happens "
        "when too few records share those values to estimate the model: deliver more "
        "records or change training.em_blocking in catalogue/entity_resolution.yml"
    )


def train_model(env: Environment, features: pl.DataFrame, config: ResolutionConfig) -> TrainedModel:
    """Train on the current records (a sample above the cap); the result is a candidate model.

    It runs on the environment's engine, and the saved model is in that engine's SQL dialect.
    """
    with splink_session(env) as db:
        tables = register_by_dataset(db, features)
        sample = 1.0 if features.height <= 200_000 else 200_000 / features.height
        measured = measure_blocking_rules(tables, config.blocking.candidates, sample=sample)
    blocking = choose_blocking_rules(
        measured.with_columns((pl.col("comparisons") / sample).cast(pl.Int64)),
        features.height,
        config.blocking.max_comparisons_per_record,
    )
    chosen = blocking.filter(pl.col("chosen"))["rule"].to_list()
    if not chosen:
        raise ValueError("no candidate blocking rule fits the comparison budget")
    frozen = {column: term_frequencies(features, column) for column in TF_COLUMNS}
    training = config.training
    sampled = training_sample(features, training.max_records, training.seed)
    with splink_session(env) as db:
        linker = linker_for(db, register_by_dataset(db, sampled), build_settings(chosen), frozen)
        run_training_steps(linker, training)
        settings = linker.misc.save_model_to_json()
    return TrainedModel(without_matches_in_u(settings), frozen, blocking)


def without_matches_in_u(settings: dict[str, Any]) -> dict[str, Any]:
    """The model with the matches in the random sample taken out of its u probabilities.

    Random sampling measures how often a level occurs among random pairs, which is
    prior * m + (1 - prior) * u: the matches in the sample inflate u, most for the levels
    matches mostly show (an exact date of birth, a shared address). So u is taken as
    (observed - prior * m) / (1 - prior), and never below a quarter of what was observed
    (an m from EM is itself an estimate); each comparison's u probabilities are then
    renormalised to sum to 1.
    """
    out = copy.deepcopy(settings)
    prior = float(out["probability_two_random_records_match"])
    for comparison in out["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        estimated = [
            lv
            for lv in levels
            if isinstance(lv.get("m_probability"), float)
            and isinstance(lv.get("u_probability"), float)
        ]
        for lv in estimated:
            observed = lv["u_probability"]
            lv["u_probability"] = max(
                (observed - prior * lv["m_probability"]) / (1 - prior), observed / 4
            )
        total = sum(
            lv["u_probability"] for lv in levels if isinstance(lv.get("u_probability"), float)
        )
        for lv in levels:
            if isinstance(lv.get("u_probability"), float):
                lv["u_probability"] /= total
    return out
