"""The recommenders behind one contract (ml.models.base.Recommender), and their catalogue.

Everything that names models (trainers, the model registry, the recommendation service, the
API schemas) reads the names from here.
"""

from ml.models.base import Recommender
from ml.models.baseline import BaselinePredictor
from ml.models.ease import EASE, EASEConfig
from ml.models.hybrid import HybridWeightedCF
from ml.models.item_based import ItemBasedCF, ItemBasedConfig
from ml.models.neural_cf import NeuralCF, NeuralCFConfig
from ml.models.popularity import PopularityRecommender
from ml.models.user_based import UserBasedCF, UserBasedConfig

#: Every model class by name (saved models name their class with it).
MODEL_CLASSES: dict[str, type[Recommender]] = {
    "baseline": BaselinePredictor,
    "popularity": PopularityRecommender,
    "ease": EASE,
    "user_based": UserBasedCF,
    "item_based": ItemBasedCF,
    "ncf": NeuralCF,
    "hybrid": HybridWeightedCF,
}
#: The models the API serves, in the order it lists them.
SERVED_MODELS: tuple[str, ...] = ("user_based", "item_based", "ncf", "hybrid")
#: The model a request gets when it names none.
DEFAULT_MODEL = "hybrid"
#: Trained and evaluated in every run beside the served models: the rating reference (baseline),
#: the ranking references (most rated, EASE^R).
REFERENCE_MODELS: tuple[str, ...] = ("baseline", "popularity", "ease")
#: Every model a training run can produce, in training order (the hybrid last: it reuses the
#: components trained in the same run).
TRAINING_ORDER: tuple[str, ...] = (
    "baseline",
    "popularity",
    "ease",
    "user_based",
    "item_based",
    "ncf",
    "hybrid",
)

__all__ = [
    "DEFAULT_MODEL",
    "EASE",
    "MODEL_CLASSES",
    "REFERENCE_MODELS",
    "SERVED_MODELS",
    "TRAINING_ORDER",
    "BaselinePredictor",
    "EASEConfig",
    "HybridWeightedCF",
    "ItemBasedCF",
    "ItemBasedConfig",
    "NeuralCF",
    "NeuralCFConfig",
    "PopularityRecommender",
    "Recommender",
    "UserBasedCF",
    "UserBasedConfig",
]
