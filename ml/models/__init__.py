"""Rating-prediction models behind one contract (ml.models.base.Recommender)."""

from ml.models.base import Recommender
from ml.models.baseline import BaselinePredictor
from ml.models.hybrid import HybridWeightedCF
from ml.models.item_based import ItemBasedCF
from ml.models.neural_cf import NeuralCF
from ml.models.popularity import PopularityRecommender
from ml.models.user_based import UserBasedCF

MODEL_CLASSES: dict[str, type[Recommender]] = {
    "baseline": BaselinePredictor,
    "user_based": UserBasedCF,
    "item_based": ItemBasedCF,
    "ncf": NeuralCF,
    "hybrid": HybridWeightedCF,
    "popularity": PopularityRecommender,
}

__all__ = [
    "MODEL_CLASSES",
    "BaselinePredictor",
    "HybridWeightedCF",
    "ItemBasedCF",
    "NeuralCF",
    "PopularityRecommender",
    "Recommender",
    "UserBasedCF",
]
