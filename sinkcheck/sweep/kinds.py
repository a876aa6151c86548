"""The kinds of task a sweep runs, their parameters (rules and defaults) and what one task does.

- ``sinkdiag`` (Súkeník et al., Section 7): sample one instance and evaluate L, the certified OPT
  bracket, the construction and U for both patterns, with a verdict per inequality
  (:func:`~sinkcheck.evaluate.sinkdiag_eval.evaluate`), plus, per stated bound, whether the
  instance lies inside the hypothesis its claim adds (:mod:`sinkcheck.construct.sinkdiag.hypotheses`);
- ``trigger`` (Ran-Milo): one training run of :mod:`~sinkcheck.experiments.trigger_train`;
- ``dormant`` (Gu et al.): one training run of :mod:`~sinkcheck.experiments.dormant_train`;
- ``variant``: one registered attention operation trained on the trigger or the dormant task
  (:mod:`~sinkcheck.experiments.variants_train`).

Each parameter has a default and a rule; a task holds every parameter (defaults filled in), so
spelling a default out in a SPEC does not change a task's key.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable

from sinkcheck import validate
from sinkcheck.construct.sinkdiag import params as sec7
from sinkcheck.construct.sinkdiag.hypotheses import predicate_of_check
from sinkcheck.construct.sinkdiag.params import Param, at_least
from sinkcheck.errors import InvalidInputError
from sinkcheck.evaluate.sinkdiag_result import Inequality


@dataclass(frozen=True)
class Kind:
    """A kind of task: its parameters, the function ``run(params, seed, device) -> result``, and
    whether it trains a model (only those ask for worker resources such as a GPU)."""

    name: str
    params: dict[str, Param]
    run: Callable[[dict, int, str], dict]
    trains: bool = False
    metrics: tuple[str, ...] = field(default=())
    joint: Callable[[dict], None] | None = None

    def check_point(self, params: dict, where: str = "parameters") -> None:
        """The rules joining a point's parameters, and the memory its task needs, checked before any
        task runs (``joint`` raises naming the parameter; the message gains the ``where.`` prefix)."""
        if self.joint is None:
            return
        try:
            self.joint(params)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}.{exc}") from None

    def check(self, name: str, value: Any, where: str = "parameters") -> Any:
        """``value`` of parameter ``name``, type-checked and normalised (an int given for a float
        becomes that float), or InvalidInputError naming ``where.name`` and the rule."""
        label = f"{where}.{name}"
        if name not in self.params:
            raise InvalidInputError(f"{label}: unknown parameter of kind {self.name} "
                                    f"(allowed: {', '.join(sorted(self.params))})")
        return self.params[name].check(label, value)


def _positive(label, v):
    return validate.positive(label, v)


def _nonnegative(label, v):
    return validate.nonnegative(label, v)


def _one_of(*options: str):
    return lambda label, v: validate.choice(label, v, options)


def _field_rule(config: Callable, field_name: str):
    """The rule of ``config``'s own validation for one field (the config built with that field only)."""
    def rule(label, v):
        try:
            obj = config(**{field_name: v})
            getattr(obj, "validated", lambda: obj)()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{label}:{str(exc).split(':', 1)[1]}") from None
    return rule


@contextlib.contextmanager
def _one_thread():
    """Torch on one thread while a task trains: the same numbers whatever the worker's core count."""
    from sinkcheck.core.attention_torch import one_thread

    with one_thread():
        yield


# ---- sinkdiag (Section 7) ---------------------------------------------------------------------
@dataclass(frozen=True)
class BoundCheck:
    """A stated bound of Section 7 as a report check: its ``name``, the ``pattern`` and
    ``inequality`` it states, the kept ``case`` where it fails as stated, and ``steps``: the other
    inequalities under the same hypothesis (the construction step proving an upper bound)."""

    name: str
    pattern: str
    inequality: Inequality
    case: str
    steps: tuple[Inequality, ...] = ()

    @property
    def predicate(self) -> Callable[[dict, bool, dict], bool]:
        """The hypothesis the bound's claim adds (:mod:`sinkcheck.construct.sinkdiag.hypotheses`)."""
        return predicate_of_check(self.name)


BOUND_CHECKS = (
    BoundCheck("sinkdiag.sink_upper", "sink", Inequality.OPT_UPPER, "u_sink_small_lambda",
               (Inequality.CONSTRUCTION_UPPER,)),
    BoundCheck("sinkdiag.diag_upper", "diag", Inequality.OPT_UPPER, "u_diag_small_lambda",
               (Inequality.CONSTRUCTION_UPPER,)),
    BoundCheck("sinkdiag.sink_lower", "sink", Inequality.LOWER_OPT, "l_sink_large_lambda_no_fallback"),
    BoundCheck("sinkdiag.diag_lower", "diag", Inequality.LOWER_OPT, "l_diag_large_lambda_no_fallback"),
)
"""The stated bounds of Section 7, each a report check and a claim with the hypothesis it adds;
OPT <= construction has no hypothesis."""


def hypotheses(params: dict, instance: dict) -> dict[tuple[str, Inequality], bool]:
    """For each stated bound and its steps, by (pattern, inequality), whether the task's point
    (``params``) and its instance's summary satisfy the hypothesis its claim adds."""
    kw = {k: params.get(k, SINKDIAG.params[k].default) for k in SINKDIAG.params}
    return {(b.pattern, ineq): bool(b.predicate(kw, kw["fallback"], instance))
            for b in BOUND_CHECKS for ineq in (b.inequality, *b.steps)}


def sinkdiag_instance(params: dict, seed: int):
    """The instance of a sinkdiag task (the same arrays wherever it is drawn)."""
    from sinkcheck.construct.sinkdiag.instance import sample_instance

    return sample_instance(**{k: params[k] for k in sec7.INSTANCE if k in params and k != "seed"}, seed=seed)


def run_sinkdiag(params: dict, seed: int, device: str = "cpu") -> dict:
    """:func:`~sinkcheck.evaluate.sinkdiag_eval.evaluate` on the task's instance, with its
    ``hypotheses`` (:func:`hypotheses`), as JSON (:meth:`~sinkcheck.evaluate.sinkdiag_result.Evaluation.to_json`:
    a results row holds plain JSON)."""
    from sinkcheck.evaluate.sinkdiag_eval import evaluate

    r = evaluate(sinkdiag_instance(params, seed), params.get("fallback", True))
    return replace(r, hypotheses=hypotheses(params, r.instance)).to_json()


SINKDIAG = Kind("sinkdiag", {k: p for k, p in sec7.PARAMS.items() if k != "seed"}, run_sinkdiag,
                joint=sec7.check_point)


# ---- training runs ----------------------------------------------------------------------------
def _trigger_params() -> dict[str, Param]:
    from sinkcheck.experiments.trigger_train import TriggerRunConfig

    out = {"attention": Param("softmax", lambda label, v: validate.choice(label, v, ("softmax", "relu", "sigmoid")))}
    for f in fields(TriggerRunConfig):
        if f.name not in ("kind", "seed", "device", "attention"):
            out[f.name] = Param(f.default, _field_rule(TriggerRunConfig, f.name))
    return out


def _trigger_config(params: dict, seed: int = 0, device: str = "cpu"):
    from sinkcheck.experiments.trigger_train import TriggerRunConfig

    cfg = {k: v for k, v in params.items() if k not in ("attention", "replicate")}
    return TriggerRunConfig(kind=params["attention"], seed=seed, device=device, **cfg)


def _trigger_joint(params: dict) -> None:
    from sinkcheck.core.limits import check_memory
    from sinkcheck.experiments.trigger_train import memory_bytes

    cfg = _trigger_config(params).validated()
    check_memory("heads, batch, T", memory_bytes(cfg), "one training run")


def run_trigger(params: dict, seed: int, device: str = "cpu") -> dict:
    """One trigger-task training run (:func:`~sinkcheck.experiments.trigger_train.run`)."""
    from sinkcheck.experiments.trigger_train import run

    with _one_thread():
        out = run(_trigger_config(params, seed, device))
    return {**{k: v for k, v in out.items() if k != "config"}, "device": device}


DORMANT_DEFAULTS = {"task": "bb", "attention": "softmax", "mlp": False, "key_bias": False, "weight_decay": 0.1,
                    "steps": 600, "lr": 3e-3, "batch_size": 64, "n_layer": 2, "n_head": 2, "n_embd": 64,
                    "pos": "learned", "norm": "pre", "slot": "none", "slot_value_norm": 0.0, "slot_value_dir": "e1",
                    "eval_every": 0}
"""The defaults of a dormant task, those of the quick profile's runs of ``sinkcheck train dormant``.
``pos``, ``norm``, ``slot``, ``slot_value_norm`` and ``slot_value_dir`` are
:class:`~sinkcheck.models.gpt.GPTConfig`'s (Gu et al. Tables 3-5); ``key_bias: true`` is the older
spelling of ``slot: k`` (with a zero value) and may not be given with another slot; ``eval_every``
> 0 adds Sink_1 every so many steps (Section 4's emergence curve)."""


def _slot(p: dict) -> str:
    """The slot of a dormant point (``key_bias`` is ``slot: k``)."""
    if p["key_bias"] and p["slot"] not in ("none", "k"):
        raise InvalidInputError(f"key_bias: true means slot 'k' and cannot be given with slot={p['slot']!r}")
    return "k" if p["key_bias"] else p["slot"]


def _dormant_configs(p: dict) -> tuple:
    from sinkcheck.experiments.dormant_train import TaskConfig, TrainConfig
    from sinkcheck.models.gpt import GPTConfig

    return (TaskConfig(task=p["task"]),
            GPTConfig(kind=p["attention"], mlp=p["mlp"], slot=_slot(p), n_layer=p["n_layer"], n_head=p["n_head"],
                      n_embd=p["n_embd"], pos=p["pos"], norm=p["norm"], slot_value_norm=p["slot_value_norm"],
                      slot_value_dir=p["slot_value_dir"]),
            TrainConfig(steps=p["steps"], weight_decay=p["weight_decay"], lr=p["lr"], batch_size=p["batch_size"]))


def _dormant_joint(params: dict) -> None:
    from sinkcheck.experiments.dormant_train import memory_bytes

    memory_bytes(*_dormant_configs({**DORMANT_DEFAULTS, **params}), check=True)


def run_dormant(params: dict, seed: int, device: str = "cpu") -> dict:
    """One sink-emergence training run (:func:`~sinkcheck.experiments.dormant_train.train_run`)."""
    from sinkcheck.experiments.dormant_train import train_run

    p = {**DORMANT_DEFAULTS, **params}
    res = train_run(*_dormant_configs(p), seed=seed, device=device, eval_every=p["eval_every"])  # pins torch itself
    return {**{k: v for k, v in asdict(res).items() if k != "attn"}, "device": device}


def _dormant_params() -> dict[str, Param]:
    from sinkcheck.models.gpt import SLOT_VALUES, SLOTS
    from sinkcheck.models.positions import POSITIONS

    rules = {"task": _one_of("iid", "bb"), "attention": _one_of("softmax", "relu", "sigmoid"),
             "weight_decay": _nonnegative, "steps": at_least(1), "lr": _positive, "batch_size": at_least(1),
             "n_layer": at_least(1), "n_head": at_least(1), "n_embd": at_least(1), "pos": _one_of(*POSITIONS),
             "norm": _one_of("pre", "post"), "slot": _one_of(*SLOTS), "slot_value_norm": _nonnegative,
             "slot_value_dir": _one_of(*SLOT_VALUES), "eval_every": at_least(0)}
    return {k: Param(v, rules.get(k)) for k, v in DORMANT_DEFAULTS.items()}


VARIANT_DEFAULTS = {"task": "trigger", "attention": "softmax", "heads": 1, "steps": 0}
"""The defaults of a variant task, ``task`` trigger or dormant, ``attention`` a registered operation
(checked against the registry), ``heads`` per layer, ``steps`` (0 means the task's own, 400 or 600)."""


def _registered(label, v):
    from sinkcheck import variants

    return validate.choice(label, v, tuple(variants.OPERATIONS))


def _variant_joint(params: dict) -> None:
    from sinkcheck.experiments.variants_train import check

    p = {**VARIANT_DEFAULTS, **params}
    check(p["task"], p["attention"], p["heads"], p["steps"])
    if p["task"] == "trigger":
        _trigger_joint({**{k: v.default for k, v in get("trigger").params.items()}, "heads": p["heads"]})


def run_variant(params: dict, seed: int, device: str = "cpu") -> dict:
    """One operation trained on one task (:func:`~sinkcheck.experiments.variants_train.run`; it pins torch)."""
    from sinkcheck.experiments.variants_train import run

    p = {**VARIANT_DEFAULTS, **params}
    return run(p["task"], p["attention"], p["heads"], seed, p["steps"] or None, device)


VARIANT = Kind("variant", {"task": Param("trigger", _one_of("trigger", "dormant")),
                           "attention": Param("softmax", _registered), "heads": Param(1, at_least(1)),
                           "steps": Param(0, at_least(0))},
               run_variant, trains=True, metrics=("loss", "solved_score", "off_first", "off_slot", "off_mass", "sink"),
               joint=_variant_joint)

KIND_NAMES = ("dormant", "sinkdiag", "trigger", "variant")


def run_task(kind: str, params: dict, seed: int, device: str = "cpu") -> Any:
    """The engine's work function of a sweep: run one task of ``kind``."""
    return get(kind).run(params, seed, device)


def trains(task) -> bool:
    """Whether ``task`` trains a model (only those ask for worker resources such as a GPU)."""
    return get(task.kind).trains


@functools.lru_cache(maxsize=None)
def get(name: str) -> Kind:
    """The kind called ``name`` (a training kind's parameters read its config's defaults, so only
    the kind asked for is imported: a sinkdiag sweep never imports torch)."""
    validate.choice("kind", name, KIND_NAMES)
    if name == "sinkdiag":
        return SINKDIAG
    if name == "variant":
        return VARIANT
    if name == "trigger":
        return Kind("trigger", _trigger_params(), run_trigger, trains=True,
                    metrics=("final_loss", "bos_nontrigger", "bos_trigger", "error_sup", "relative_error_trigger",
                             "sink_rate"), joint=_trigger_joint)
    return Kind("dormant", _dormant_params(), run_dormant, trains=True,
                metrics=("loss", "sink", "sink_init", "bos_nontrigger", "bos_trigger", "bos_raw"), joint=_dormant_joint)
