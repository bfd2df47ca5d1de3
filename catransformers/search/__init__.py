"""Search: design space, objectives and modes by name, the one pymoo adapter, the runner with checkpoints.

pymoo is imported only when a search runs (problem.py, algorithms.py, hypervolume.py).
"""

from .archive import PENALTY, Archive
from .backend import DesignEvaluator, PopulationEvaluator, SerialEvaluator, concat_metrics, split_designs
from .compare import carbon_gains, compare_table, run_compare, scenario_specs
from .decision import recommend, recommend_index
from .hypervolume import hypervolume, reference_point
from .objectives import CONSTRAINTS, OBJECTIVES, Constraint, Mode, Objective, get_mode, list_modes
from ..pareto import non_dominated, pareto_mask
from .runner import Interrupted, Progress, SearchResult, SearchSetup, prepare, run_search
from .space import DesignSpace, Variable, build_space
from .spec import SearchSpec, default_spec, load_spec, spec_from_mapping

__all__ = [
    "SearchSpec",
    "load_spec",
    "default_spec",
    "spec_from_mapping",
    "Objective",
    "Constraint",
    "Mode",
    "OBJECTIVES",
    "CONSTRAINTS",
    "get_mode",
    "list_modes",
    "DesignSpace",
    "Variable",
    "build_space",
    "PopulationEvaluator",
    "DesignEvaluator",
    "SerialEvaluator",
    "split_designs",
    "concat_metrics",
    "Archive",
    "PENALTY",
    "SearchSetup",
    "SearchResult",
    "Progress",
    "Interrupted",
    "prepare",
    "run_search",
    "run_compare",
    "compare_table",
    "carbon_gains",
    "scenario_specs",
    "recommend",
    "recommend_index",
    "hypervolume",
    "reference_point",
    "non_dominated",
    "pareto_mask",
]
