"""The product catalog: a 3-level category tree, brands, log-normal prices, hidden quality.

The catalog is built once per lake from the seed and shared (read-only) by every partition.
Each product carries two hidden traits that drive behaviour: `quality` (ratings, returns)
and `popularity` (how often it is viewed).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from insight.landing import CATEGORY_SEPARATOR

from .clock import DAY, iso

# top -> mid -> [(leaf, median price EUR, noun used in review text, noun is plural)]
TAXONOMY: dict[str, dict[str, list[tuple[str, float, str, bool]]]] = {
    "Electronics": {
        "Audio": [
            ("Headphones", 89, "headphones", True),
            ("Earbuds", 59, "earbuds", True),
            ("Bluetooth Speakers", 69, "speaker", False),
            ("Soundbars", 199, "soundbar", False),
        ],
        "Phones & Accessories": [
            ("Phone Cases", 19, "case", False),
            ("Chargers", 24, "charger", False),
            ("Power Banks", 35, "power bank", False),
        ],
        "Computers": [
            ("Laptops", 849, "laptop", False),
            ("Monitors", 229, "monitor", False),
            ("Keyboards", 59, "keyboard", False),
            ("Mice", 29, "mouse", False),
        ],
        "Smart Home": [
            ("Smart Plugs", 22, "smart plug", False),
            ("Security Cameras", 79, "camera", False),
            ("Smart Bulbs", 18, "bulb", False),
        ],
    },
    "Fashion": {
        "Women": [
            ("Dresses", 59, "dress", False),
            ("Jeans", 69, "jeans", True),
            ("Jackets", 119, "jacket", False),
            ("Knitwear", 55, "jumper", False),
        ],
        "Men": [
            ("Shirts", 45, "shirt", False),
            ("Chinos", 59, "chinos", True),
            ("Coats", 159, "coat", False),
        ],
        "Shoes": [
            ("Sneakers", 89, "sneakers", True),
            ("Running Shoes", 119, "running shoes", True),
            ("Boots", 139, "boots", True),
        ],
        "Accessories": [
            ("Bags", 69, "bag", False),
            ("Scarves", 29, "scarf", False),
            ("Sunglasses", 79, "sunglasses", True),
        ],
    },
    "Home & Kitchen": {
        "Kitchen Appliances": [
            ("Coffee Machines", 249, "coffee machine", False),
            ("Blenders", 69, "blender", False),
            ("Toasters", 45, "toaster", False),
            ("Kettles", 39, "kettle", False),
        ],
        "Cookware": [
            ("Frying Pans", 45, "pan", False),
            ("Knives", 59, "knife", False),
            ("Pots", 65, "pot", False),
        ],
        "Bedding": [
            ("Duvets", 89, "duvet", False),
            ("Pillows", 35, "pillow", False),
            ("Bed Linen", 49, "bed linen", False),
        ],
        "Decor": [
            ("Lamps", 59, "lamp", False),
            ("Candles", 15, "candle", False),
            ("Vases", 25, "vase", False),
        ],
    },
    "Beauty & Care": {
        "Skincare": [
            ("Moisturisers", 22, "moisturiser", False),
            ("Serums", 29, "serum", False),
            ("Sunscreen", 15, "sunscreen", False),
        ],
        "Hair Care": [
            ("Shampoo", 9, "shampoo", False),
            ("Hair Dryers", 59, "hair dryer", False),
            ("Straighteners", 49, "straightener", False),
        ],
        "Fragrance": [
            ("Perfume", 65, "perfume", False),
            ("Aftershave", 45, "aftershave", False),
        ],
    },
    "Sports & Outdoors": {
        "Fitness": [
            ("Yoga Mats", 29, "yoga mat", False),
            ("Dumbbells", 45, "dumbbells", True),
            ("Resistance Bands", 19, "resistance bands", True),
        ],
        "Cycling": [
            ("Helmets", 59, "helmet", False),
            ("Bike Lights", 29, "bike light", False),
            ("Bike Locks", 35, "lock", False),
        ],
        "Camping": [
            ("Tents", 149, "tent", False),
            ("Sleeping Bags", 79, "sleeping bag", False),
            ("Backpacks", 89, "backpack", False),
        ],
    },
    "Grocery": {
        "Coffee & Tea": [
            ("Coffee Beans", 14, "coffee", False),
            ("Tea", 6, "tea", False),
            ("Coffee Capsules", 8, "capsules", True),
        ],
        "Snacks": [
            ("Chocolate", 4, "chocolate", False),
            ("Nuts", 6, "nuts", True),
            ("Crisps", 3, "crisps", True),
        ],
        "Pantry": [
            ("Olive Oil", 12, "olive oil", False),
            ("Pasta", 3, "pasta", False),
            ("Spices", 5, "spice mix", False),
        ],
    },
    "Toys & Games": {
        "Board Games": [
            ("Strategy Games", 39, "game", False),
            ("Party Games", 25, "game", False),
            ("Puzzles", 19, "puzzle", False),
        ],
        "Building Sets": [
            ("Brick Sets", 49, "set", False),
            ("Model Kits", 35, "kit", False),
        ],
        "Outdoor Toys": [
            ("Scooters", 79, "scooter", False),
            ("Kites", 25, "kite", False),
            ("Water Toys", 15, "toy", False),
        ],
    },
    "Books & Media": {
        "Fiction": [
            ("Crime", 13, "book", False),
            ("Fantasy", 15, "book", False),
            ("Romance", 11, "book", False),
        ],
        "Non-Fiction": [
            ("Cookbooks", 25, "cookbook", False),
            ("Biographies", 20, "biography", False),
            ("Self-Help", 16, "book", False),
        ],
        "Music": [
            ("Vinyl", 29, "record", False),
            ("CDs", 14, "album", False),
        ],
    },
}
TOPS: tuple[str, ...] = tuple(TAXONOMY)

# How many catalog products land in each top category (relative).
TOP_WEIGHTS = (1.3, 1.4, 1.2, 0.9, 0.9, 0.8, 0.7, 0.8)

# Return-rate multipliers: clothes get sent back far more often than coffee.
RETURN_FACTOR = {
    "Electronics": 1.2,
    "Fashion": 2.2,
    "Home & Kitchen": 1.0,
    "Beauty & Care": 0.5,
    "Sports & Outdoors": 1.0,
    "Grocery": 0.15,
    "Toys & Games": 0.7,
    "Books & Media": 0.35,
}

BRANDS = {
    "Electronics": ("Sonora", "Voltiq", "Kestrel", "Nordlicht", "Pixelo", "Amplio", "Zentek",
                    "Lumeo", "Halcyon Audio", "ByteWerk"),
    "Fashion": ("Maison Lune", "Nordvik", "Urban Thread", "Côte Bleue", "Hanse & Co",
                "Velluto", "Ridgeline", "Mila Rosa", "Koa", "Fjällkind"),
    "Home & Kitchen": ("Casa Bella", "Küchenmeister", "Hearthstone", "Nido", "Oakleaf",
                       "Brava", "Lumière Home", "Tidy&Co"),
    "Beauty & Care": ("Aurelia", "Pura Vida", "Skin Lab", "Belle Fleur", "Nordic Dew",
                      "Velvet Leaf", "Dr. Mira"),
    "Sports & Outdoors": ("Summit", "Trailfox", "Alpenglow", "Stride", "Pulse Athletics",
                          "Wildpath", "Velo Uno"),
    "Grocery": ("Bottega Verde", "Kaffeekult", "Golden Grove", "Mr. Crunch", "Terra Madre",
                "Teahouse No. 9", "Cacao Real"),
    "Toys & Games": ("Playwise", "Brickly", "Kiddo", "Meeple & Co", "Sky Toys", "Funkel"),
    "Books & Media": ("Lantern Press", "Blue Harbour", "Penwright", "Editions Soleil",
                      "Groove Records", "Papierflieger"),
}  # fmt: skip

_MODELS = ("Pro", "Air", "Max", "Lite", "Classic", "Essential", "Nova", "Flex", "Ultra",
           "Core", "Eco", "Studio", "Urban", "Comfort", "Premium", "Mini", "Plus", "One",
           "Edge", "Prime", "Select", "Origin", "Zen", "Aero")  # fmt: skip
_COLOURS = ("Black", "White", "Navy", "Grey", "Olive", "Sand", "Burgundy", "Sky Blue",
            "Charcoal", "Rose")  # fmt: skip
_SIZES = ("250 g", "500 g", "1 kg", "6-pack", "12-pack")
_LEAF_SIZES = {
    "Coffee Capsules": ("10 capsules", "20 capsules", "50 capsules"),
    "Olive Oil": ("500 ml", "750 ml", "1 l"),
    "Tea": ("20 bags", "40 bags", "100 g"),
}
_TOP_CODE = {top: top[:3].upper() for top in TOPS}
# Product-name nouns where the review noun would read oddly in a name.
_NAME_NOUN = {
    "Strategy Games": "Strategy Game",
    "Party Games": "Party Game",
    "Crime": "Crime Novel",
    "Fantasy": "Fantasy Saga",
    "Romance": "Romance Novel",
    "Self-Help": "Self-Help Guide",
    "Vinyl": "Vinyl LP",
    "CDs": "CD",
    "Coffee Beans": "Coffee Beans",
    "Coffee Capsules": "Coffee Capsules",
    "Water Toys": "Water Blaster",
    "Brick Sets": "Brick Set",
    "Model Kits": "Model Kit",
    "Bed Linen": "Bed Linen Set",
}


@dataclass(slots=True)
class Product:
    """One catalog product, with hidden traits (`quality`, `popularity`) for the truth file."""

    number: int
    product_id: str
    sku: str
    name: str
    brand: str
    top: int  # index into TOPS
    mid: str
    leaf: str
    noun: str
    plural: bool
    price_eur: float
    median_eur: float
    available: bool
    updated_at: int  # epoch seconds
    updated_offset: int  # minutes
    quality: float
    popularity: float
    appeal: float = 1.0  # how much quality raises the add-to-cart chance (derived)

    def __post_init__(self) -> None:
        self.appeal = 0.6 + 0.8 / (1.0 + math.exp(-1.5 * self.quality))

    @property
    def category_path(self) -> str:
        return CATEGORY_SEPARATOR.join((TOPS[self.top], self.mid, self.leaf))

    def csv_row(self) -> list[str]:
        """Row in landing.PRODUCT_FIELDS order."""
        return [
            self.product_id,
            self.sku,
            self.name,
            self.brand,
            self.category_path,
            f"{self.price_eur:.2f}",
            "EUR",
            "true" if self.available else "false",
            iso(self.updated_at, self.updated_offset, zulu=True),
        ]


@dataclass(slots=True)
class Catalog:
    """All products plus per-top-category sampling tables used by the shoppers."""

    products: list[Product]
    by_top: list[list[Product]]
    popular_cum: list[list[float]]  # cumulative popularity weights per top
    cheap_cum: list[list[float]]  # cumulative weights favouring cheap products per top

    def pick(self, rng: random.Random, top: int, price_sensitivity: float) -> Product:
        """A product from `top`, weighted by popularity (and cheapness for sensitive buyers)."""
        cum = self.cheap_cum[top] if rng.random() < price_sensitivity else self.popular_cum[top]
        items = self.by_top[top]
        return items[bisect_right(cum, rng.random() * cum[-1]) if len(items) > 1 else 0]

    def truth_rows(self) -> list[dict[str, object]]:
        return [
            {
                "product_id": p.product_id,
                "category_path": p.category_path,
                "brand": p.brand,
                "price_eur": p.price_eur,
                "quality": round(p.quality, 4),
                "popularity": round(p.popularity, 4),
                "expected_return_rate": round(return_probability(p), 4),
            }
            for p in self.products
        ]


def catalog_size(customers: int) -> int:
    """~1 product per 25 customers, at least 200 and at most 5,000."""
    return min(5_000, max(200, customers // 25))


def return_probability(product: Product) -> float:
    """Chance a purchased unit comes back: low quality and fashion raise it."""
    base = 0.02 + 0.22 / (1.0 + math.exp(3.0 * (product.quality + 0.4)))
    return min(0.6, base * RETURN_FACTOR[TOPS[product.top]])


def _price(median: float, brand_level: float, rng: random.Random) -> float:
    raw = median * brand_level * rng.lognormvariate(0.0, 0.45)
    raw = min(4_999.0, max(0.99, raw))
    # Shops like prices ending in .99 / .49.
    if raw >= 10:
        return round(math.floor(raw) + rng.choice((0.99, 0.99, 0.49, 0.0)) - (raw >= 100), 2)
    return round(max(0.49, math.floor(raw * 2) / 2 + 0.49), 2)


def build_catalog(seed: int, customers: int, window_start: int, window_end: int) -> Catalog:
    """Deterministically invent the catalog for a lake (window in epoch seconds, end exclusive)."""
    rng = random.Random(f"catalog:{seed}")
    brand_level = {
        (top, b): (rng.lognormvariate(0.0, 0.25), rng.gauss(0.0, 0.45))
        for top, names in BRANDS.items()
        for b in names
    }
    top_cum = list(accumulate(TOP_WEIGHTS))
    n = catalog_size(customers)
    products: list[Product] = []
    for number in range(1, n + 1):
        # The first products cover every top once so small catalogs have all categories.
        if number <= len(TOPS):
            top = number - 1
        else:
            top = bisect_right(top_cum, rng.random() * top_cum[-1])
        top_name = TOPS[top]
        mid = rng.choice(list(TAXONOMY[top_name]))
        leaf, median, noun, plural = rng.choice(TAXONOMY[top_name][mid])
        brand = rng.choice(BRANDS[top_name])
        level, brand_quality = brand_level[(top_name, brand)]
        price = _price(median, level, rng)
        # Quality: brand reputation, a little "you get what you pay for", and luck.
        quality = brand_quality + 0.25 * math.log(price / median) + rng.gauss(0.0, 0.6)
        popularity = rng.lognormvariate(0.0, 1.1) * math.exp(0.35 * quality)
        name = f"{brand} {rng.choice(_MODELS)} {_NAME_NOUN.get(leaf) or noun.title()}"
        if top_name in ("Electronics", "Fashion", "Sports & Outdoors") and rng.random() < 0.5:
            name += f", {rng.choice(_COLOURS)}"
        elif top_name == "Grocery":
            name += f" {rng.choice(_LEAF_SIZES.get(leaf, _SIZES))}"
        elif rng.random() < 0.3:
            name += f" {rng.choice('XSTVZ')}{rng.randint(1, 9) * 100}"
        updated = rng.randrange(window_start, window_end - DAY)
        products.append(
            Product(
                number=number,
                product_id=f"P{number:06d}",
                sku=f"{_TOP_CODE[top_name]}-{brand[:3].upper()}-{rng.randint(10000, 99999)}",
                name=name,
                brand=brand,
                top=top,
                mid=mid,
                leaf=leaf,
                noun=noun,
                plural=plural,
                price_eur=price,
                median_eur=float(median),
                available=rng.random() >= 0.05,
                updated_at=updated,
                updated_offset=rng.choice((0, 60, 120)),
                quality=quality,
                popularity=popularity,
            )
        )
    by_top: list[list[Product]] = [[] for _ in TOPS]
    for p in products:
        by_top[p.top].append(p)
    popular_cum = [list(accumulate(p.popularity for p in items)) for items in by_top]
    # Cheapness relative to the leaf's typical price, so bargain hunters still buy
    # across leaves but pick the cheap variant within each.
    cheap_cum = [
        list(accumulate(p.popularity * (p.median_eur / p.price_eur) ** 1.5 for p in items))
        for items in by_top
    ]
    return Catalog(products, by_top, popular_cum, cheap_cum)
