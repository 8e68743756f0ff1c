"""Review titles and texts (and shop search queries) from combinatorial templates.

The wording follows the star rating so text models can learn real signal, but not too
easily: category-specific aspects, intensifiers ("really", "a bit"), negations ("not bad
at all", "wasn't worth the money"), mixed opinions for 2-4 stars ("great sound but the
battery dies fast"), varied length and a sprinkling of typos.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .catalog import TOPS, Product


@dataclass(frozen=True, slots=True)
class Aspect:
    """Something a reviewer comments on, with ways to praise and criticise it."""

    noun: str
    plural: bool
    good: tuple[str, ...]
    bad: tuple[str, ...]
    good_claims: tuple[str, ...]
    bad_claims: tuple[str, ...]


def parse_aspects(spec: str) -> tuple[Aspect, ...]:
    """Parse blocks of: noun line ('(pl)' marks plural), then '+ good adjectives',
    '- bad adjectives', '++ praise; ...' and '-- complaint; ...' lines."""
    out = []
    blocks: list[dict[str, str]] = []
    for raw in spec.strip().splitlines():
        line = raw.strip()
        marker, _, rest = line.partition(" ")
        if marker in ("+", "-", "++", "--"):
            # A marker may repeat to continue a long list.
            sep = ";" if len(marker) == 2 else ","
            prev = blocks[-1].get(marker)
            blocks[-1][marker] = f"{prev}{sep}{rest}" if prev else rest
        else:
            blocks.append({"noun": line})
    for b in blocks:
        noun = b["noun"].removesuffix(" (pl)")
        out.append(
            Aspect(
                noun,
                noun != b["noun"],
                tuple(x.strip() for x in b["+"].split(",")),
                tuple(x.strip() for x in b["-"].split(",")),
                tuple(x.strip() for x in b["++"].split(";")),
                tuple(x.strip() for x in b["--"].split(";")),
            )
        )
    return tuple(out)


GENERIC = parse_aspects("""
delivery
    + fast, quick, prompt, speedy
    - slow, late, painfully slow
    ++ arrived a day early; came the next day; was tracked all the way
    -- took almost three weeks; arrived a week late; got lost for days
price
    + fair, reasonable, unbeatable, great
    - steep, too high, ridiculous
    ++ is spot on for what you get; was a steal in the sale; is hard to beat
    -- is way too high for what it is; went up right after I ordered
    -- makes no sense for this quality
packaging
    + neat, secure, minimal, eco-friendly
    - damaged, excessive, flimsy
    ++ kept everything safe; was fully recyclable; looked really nice
    -- arrived crushed; was soaking wet; was torn open
customer service
    + helpful, friendly, responsive, excellent
    - unhelpful, rude, useless
    ++ sorted my question within a day; replaced it without any fuss; answered within the hour
    -- never replied to my emails; kept me waiting for weeks; refused to help
value for money
    + excellent, great, outstanding, good
    - poor, terrible, disappointing
    ++ is excellent; beats the big brands; is better than expected
    -- is simply not there; is really poor; left a lot to be desired
""")

TOP_ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "Electronics": parse_aspects("""
build quality
    + solid, sturdy, premium, excellent
    - flimsy, cheap, plasticky, poor
    ++ feels like it will last for years; is better than my old one; survived a few drops already
    -- feels like it could break any minute; creaks when you hold it; cracked within a week
setup
    + easy, painless, quick, straightforward
    - confusing, fiddly, frustrating, awkward
    ++ took less than five minutes; was plug and play; needed no manual at all
    -- took me over an hour; needed three restarts; kept failing halfway through
design
    + sleek, elegant, minimal, modern
    - bulky, ugly, dated, clunky
    ++ looks great on my desk; is really compact; feels well thought out
    -- is too bulky to carry around; attracts fingerprints like crazy; looks cheap in person
"""),
    "Fashion": parse_aspects("""
fit
    + perfect, flattering, true to size, spot on
    - tight, baggy, way off, awkward
    ++ fits like a glove; is true to size; looks tailored
    -- runs at least one size small; is far too tight around the shoulders; is cut really strangely
fabric
    + soft, high quality, breathable, lovely
    - thin, scratchy, cheap, see-through
    ++ feels lovely on the skin; washes really well; keeps its shape after washing
    -- started pilling after one wash; shrank in the wash; feels like paper
colour
    + gorgeous, vibrant, rich, exactly as pictured
    - dull, washed out, nothing like the photos, off
    ++ stays bright after washing; matches everything; looks even better in person
    -- faded after the first wash; is much darker than in the photos; bled into my other clothes
stitching
    + neat, strong, flawless, solid
    - sloppy, loose, uneven, messy
    ++ has held up perfectly; shows real craftsmanship; is really well finished
    -- came undone after a week; had loose threads everywhere; split on the second wear
comfort
    + amazing, great, excellent, superb
    - poor, awful, disappointing, bad
    ++ needed no breaking in; lasts all day; is like wearing nothing
    -- gave me blisters on day one; hurts after an hour; is just not there
"""),
    "Home & Kitchen": parse_aspects("""
design
    + beautiful, elegant, stylish, modern
    - ugly, dated, clunky, cheap-looking
    ++ looks great in our kitchen; gets compliments from guests; fits any room
    -- looks cheap in person; clashes with everything; is bulkier than expected
sturdiness
    + solid, sturdy, robust, excellent
    - flimsy, wobbly, poor, fragile
    ++ feels built to last; doesn't move an inch; has survived daily use
    -- wobbles all the time; bent on first use; feels like it will break
"""),
    "Beauty & Care": parse_aspects("""
scent
    + lovely, fresh, subtle, gorgeous
    - overpowering, chemical, synthetic, strange
    ++ lasts all day; gets me compliments; is light and fresh
    -- fades within an hour; gives me a headache; smells like cleaning products
texture
    + light, silky, rich, smooth
    - greasy, sticky, thick, gloopy
    ++ sinks in quickly; feels luxurious; spreads easily
    -- leaves a greasy film; never really absorbs; pills on the skin
effect
    + amazing, visible, noticeable, great
    - zero, disappointing, poor, bad
    ++ left my skin really soft; made a real difference in a week; calmed my redness
    -- broke me out within days; did absolutely nothing; dried my skin out
bottle
    + practical, pretty, elegant, handy
    - leaky, awkward, cheap, messy
    ++ looks lovely on the shelf; is travel friendly; has a great pump
    -- leaked in my bag; has a pump that keeps jamming; is impossible to empty
"""),
    "Sports & Outdoors": parse_aspects("""
durability
    + excellent, impressive, great, solid
    - poor, terrible, disappointing, bad
    ++ has survived months of heavy use; still looks new; is better than expected
    -- gave up after a few weeks; ripped on the first outing; is worse than cheaper brands
grip
    + excellent, secure, solid, great
    - slippery, poor, useless, weak
    ++ holds firm even when wet; never slips; feels really secure
    -- slips constantly; is gone after a month; is useless when sweaty
weight
    + light, lightweight, perfect, manageable
    - heavy, bulky, awkward, unwieldy
    ++ makes it easy to carry; is barely noticeable; is great for long trips
    -- makes it a pain to carry; is much more than advertised; wears you out
waterproofing
    + excellent, reliable, great, solid
    - useless, poor, non-existent, bad
    ++ kept me dry in heavy rain; held up in a storm; works as promised
    -- leaks in light rain; failed on the first wet day; is a joke
"""),
    "Grocery": parse_aspects("""
taste
    + delicious, rich, smooth, fantastic
    - bland, bitter, stale, artificial
    ++ is better than the supermarket brand; is really well balanced; has lovely depth
    -- is really disappointing; leaves a weird aftertaste; is nothing special
freshness
    + excellent, great, perfect, spot on
    - poor, questionable, bad, terrible
    ++ was clearly recently packed; lasted for weeks; was perfect on arrival
    -- was close to the best-before date; was already gone on arrival; was not what I expected
aroma
    + wonderful, intense, rich, lovely
    - weak, flat, dull, odd
    ++ fills the whole kitchen; is really intense; hits you when you open the bag
    -- is barely there; disappears after a day; smells a bit off
portion size
    + generous, decent, good, great
    - tiny, small, stingy, mean
    ++ lasts the whole family a week; is more than enough; is bigger than expected
    -- is tiny for the price; is mostly air; is half what the photo suggests
"""),
    "Toys & Games": parse_aspects("""
fun factor
    + huge, great, brilliant, fantastic
    - low, disappointing, non-existent, poor
    ++ kept the kids busy for hours; made our family evenings; never gets old
    -- wore off after a day; bored everyone within ten minutes; is just not there
instructions (pl)
    + clear, easy, simple, helpful
    - confusing, useless, unclear, badly translated
    ++ are easy to follow; made assembly quick; are well illustrated
    -- are impossible to follow; skip half the steps; are missing pages
pieces (pl)
    + sturdy, colourful, solid, well made
    - flimsy, cheap, sharp, brittle
    ++ all fit together perfectly; are really well made; survived my toddler
    -- were missing from the box; snapped on day one; don't fit together properly
replay value
    + great, huge, excellent, good
    - low, poor, zero, limited
    ++ keeps us coming back; is fantastic; means it gets played every week
    -- is almost zero; disappears once you know the trick; is really limited
"""),
    "Books & Media": parse_aspects("""
story
    + gripping, moving, original, clever
    - predictable, slow, boring, confusing
    ++ kept me up all night; had me hooked from page one; stayed with me for days
    -- drags in the middle; goes nowhere; is full of holes
writing
    + beautiful, witty, sharp, elegant
    - clunky, flat, repetitive, lazy
    ++ flows beautifully; is a joy to read; is full of great lines
    -- feels rushed; is hard to get through; needed a good editor
characters (pl)
    + believable, well drawn, memorable, lovable
    - flat, annoying, forgettable, one-dimensional
    ++ feel like real people; stay with you; grow throughout the book
    -- never come alive; all sound the same; make stupid decisions
print quality
    + excellent, lovely, great, superb
    - poor, cheap, bad, terrible
    ++ is really nice; makes it a great gift; is better than expected
    -- is blurry in places; came with torn pages; smudges on every page
"""),
}

_BATTERY = parse_aspects("""
battery life
    + excellent, impressive, solid, amazing
    - poor, disappointing, terrible, short
    ++ easily lasts all day; lasts a whole week between charges; charges really quickly
    -- dies after a couple of hours; drains way too fast; barely lasts a morning
""")

MID_ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "Audio": _BATTERY
    + parse_aspects("""
sound
    + crisp, rich, clear, balanced, punchy, warm
    - tinny, muddy, distorted, flat, harsh
    ++ has plenty of bass; stays clear even at high volume; beats speakers twice the price
    -- distorts at higher volume; lacks any real bass; hisses constantly
bluetooth connection
    + stable, reliable, rock solid, seamless
    - patchy, unreliable, flaky, terrible
    ++ never drops; pairs instantly; works across the whole flat
    -- keeps dropping out; refuses to pair with my phone; lags behind the video
noise cancelling
    + excellent, impressive, effective, great
    - weak, useless, underwhelming, poor
    ++ blocks out the whole train; works wonders on flights; makes the office bearable
    -- barely does anything; creates an odd pressure; lets every voice through
"""),
    "Phones & Accessories": _BATTERY,
    "Computers": _BATTERY
    + parse_aspects("""
screen
    + sharp, bright, vibrant, gorgeous
    - dim, washed out, grainy, reflective
    ++ is great for photo editing; is easy on the eyes; is bright enough outdoors
    -- has a dead pixel; flickers at low brightness; bleeds light at the corners
speed
    + fast, snappy, impressive, great
    - sluggish, slow, disappointing, poor
    ++ handles everything I throw at it; boots in seconds; never stutters
    -- grinds to a halt with a few tabs open; takes ages to boot; freezes every day
"""),
    "Shoes": parse_aspects("""
sole
    + grippy, cushioned, supportive, comfortable
    - hard, slippery, thin, stiff
    ++ absorbs every step; grips on wet pavement; makes long runs easy
    -- wore through in a month; squeaks on every step; is rock hard
"""),
    "Kitchen Appliances": parse_aspects("""
cleaning
    + easy, effortless, quick, simple
    - awkward, tedious, messy, impossible
    ++ is a breeze; takes seconds; can go straight in the dishwasher
    -- is a nightmare; leaves stains everywhere; takes forever
performance
    + excellent, impressive, reliable, great
    - poor, weak, inconsistent, disappointing
    ++ heats up in seconds; does exactly what it promises; works perfectly every time
    -- takes forever to heat up; stopped working after a month; is really inconsistent
noise level
    + quiet, low, pleasant, barely noticeable
    - loud, annoying, terrible, high
    ++ is whisper quiet; never wakes the kids; is lower than my old one
    -- is incredibly loud; rattles constantly; makes a weird buzzing sound
"""),
    "Cookware": parse_aspects("""
cleaning
    + easy, effortless, quick, simple
    - awkward, tedious, messy, impossible
    ++ is a breeze; takes seconds; can go straight in the dishwasher
    -- is a nightmare; leaves stains everywhere; takes forever
non-stick coating
    + excellent, slick, durable, flawless
    - useless, patchy, flaky, poor
    ++ still works like new after months; needs barely any oil; survived the dishwasher
    -- started peeling after two weeks; scratches far too easily; is gone already
"""),
    "Bedding": parse_aspects("""
softness
    + amazing, lovely, incredible, perfect
    - poor, disappointing, scratchy, nonexistent
    ++ feels like a hotel bed; gets better with every wash; is just right
    -- feels like sandpaper; disappeared after one wash; is not what I expected
warmth
    + perfect, cosy, ideal, just right
    - poor, insufficient, stifling, uneven
    ++ keeps me warm through winter; is perfect all year round; breathes really well
    -- is far too hot in summer; leaves me shivering at night; is patchy at the edges
"""),
    "Music": parse_aspects("""
sound quality
    + warm, rich, crisp, stunning
    - flat, thin, muddy, disappointing
    ++ is better than the streaming version; brings out every detail; is superb
    -- is worse than the streaming version; lacks any depth; sounds compressed
sleeve
    + beautiful, gorgeous, sturdy, lovely
    - flimsy, creased, cheap, damaged
    ++ has lovely artwork; comes with great liner notes; makes a nice gift
    -- arrived creased; has no liner notes at all; was split at the seam
pressing
    + clean, quiet, flawless, excellent
    - noisy, warped, scratchy, poor
    ++ sounds fantastic; is dead quiet; is perfectly centred
    -- crackles all the way through; arrived warped; skips on track three
"""),
}

_STRONG = ("really ", "absolutely ", "incredibly ", "super ", "very ", "extremely ", "so ", "")
_MILD = ("quite ", "pretty ", "", "")
_SOFT_BAD = ("a bit ", "slightly ", "somewhat ", "a little ", "rather ")
_HAPPY = ("Really happy with", "Very pleased with", "Love", "Impressed by", "Can't fault",
          "Delighted with", "No complaints about")  # fmt: skip
_UNHAPPY = ("Really disappointed with", "Not happy with", "Not impressed by", "Unhappy with",
            "Let down by", "Frustrated with")  # fmt: skip
_WHO = ("my son", "my daughter", "my wife", "my husband", "my partner", "my mum", "my dad",
        "a friend", "my sister", "my brother", "my flatmate", "myself")  # fmt: skip
_WHEN = ("a few days", "a week", "two weeks", "three weeks", "a month", "two months",
         "about six weeks", "half a year")  # fmt: skip

_OPENERS_ANY = (
    "Bought {this} {noun} for {who}.",
    "Bought {this} {noun} as a gift for {who}.",
    "Ordered {this} {noun} {when} ago.",
    "I've been using {this} {noun} for {when} now.",
    "Bought {this} {noun} to replace my old one.",
    "Got {this} {noun} in the sale.",
    "Picked {this} {noun} after reading lots of reviews.",
    "This is my second purchase from {brand}.",
    "First time buying from {brand}.",
    "Needed a new {noun_sg} and went for this one.",
)
_OPENERS_POS = (
    "Was a bit sceptical at first, but here we are.",
    "Honestly did not expect much for the price.",
    "Took a chance on {brand} and I'm glad I did.",
)
_OPENERS_NEG = (
    "Had high hopes for {this} {noun}.",
    "Really wanted to like {this} {noun}.",
    "Usually a fan of {brand}, but not this time.",
)

CLOSERS = {
    5: ("Would definitely recommend!", "Will buy again.", "Highly recommended.",
        "Five stars from me.", "Couldn't be happier.", "Best purchase this year.",
        "Can't recommend it enough.", "Worth every penny.", "10/10 would buy again.",
        "Already ordered a second one.", "Exactly what I was looking for."),
    4: ("Would recommend.", "Happy overall.", "Good value for the money.",
        "Minus one star for the {weak}.", "Would buy again.", "Does what it says.",
        "Pretty happy with it.", "Almost perfect.", "Solid buy."),
    3: ("It does the job.", "Okay for the price.", "Not sure I'd buy it again.",
        "Average, nothing special.", "Fine, but nothing more.", "It's alright I guess.",
        "Neither great nor terrible.", "Might keep it, might not."),
    2: ("Probably won't buy again.", "Expected more.", "Can't really recommend it.",
        "Not great, not terrible.", "Would not buy again.", "There are better options.",
        "Not worth the hassle."),
    1: ("Returning it.", "Avoid.", "Complete waste of money.", "Sent it back the same day.",
        "Wasn't worth the money.", "Don't make my mistake.", "Never again.",
        "Save your money.", "Stay away from this one.", "Zero stars if I could."),
}  # fmt: skip

_TITLES = {
    5: ("Absolutely love it", "Love it!", "Perfect {noun_sg}", "Great {noun_sg}!",
        "Excellent", "Exceeded my expectations", "Best {noun_sg} I've owned", "Five stars",
        "Fantastic {noun_sg}", "Brilliant", "Superb quality", "Just perfect",
        "Amazing {good_aspect}", "Highly recommend", "Could not be happier"),
    4: ("Very good", "Great value", "Really good {noun_sg}", "Almost perfect",
        "Solid choice", "Happy with it", "Good {noun_sg}", "Great {good_aspect}",
        "Good, but {weak} could be better", "Nice {noun_sg}", "Pretty good"),
    3: ("Okay", "Decent but not great", "It's fine", "Mixed feelings", "Average {noun_sg}",
        "Does the job", "Good {good_aspect}, poor {weak}", "Meh, it's okay", "So-so",
        "Not bad, not great"),
    2: ("Disappointing", "Not great", "Expected better", "Meh", "Poor {weak}",
        "Not worth it", "Could be much better", "Underwhelming", "Not for me"),
    1: ("Terrible", "Waste of money", "Do not buy", "Broke after a week", "Very disappointed",
        "Avoid!", "Awful {noun_sg}", "Rubbish", "Total disappointment", "AVOID",
        "Terrible {weak}", "Worst purchase ever"),
}  # fmt: skip

# Probability that an aspect sentence is positive, by star rating.
_P_POSITIVE = {5: 0.96, 4: 0.8, 3: 0.5, 2: 0.2, 1: 0.05}
_P_MIXED = {5: 0.03, 4: 0.3, 3: 0.45, 2: 0.3, 1: 0.05}
# Number of body sentences (1..8), skewed short like real reviews.
_LENGTH_WEIGHTS = (20, 24, 19, 13, 9, 7, 5, 3)
_TYPO_RATE = 0.02


def _be(a: Aspect) -> str:
    return "are" if a.plural else "is"


def _pos_clause(rng: random.Random, a: Aspect, strong: bool) -> str:
    i = rng.choice(_STRONG if strong else _MILD)
    r = rng.random()
    if r < 0.35:
        return f"the {a.noun} {_be(a)} {i}{rng.choice(a.good)}"
    if r < 0.65:
        return f"the {a.noun} {rng.choice(a.good_claims)}"
    if r < 0.85:
        return f"{i}{rng.choice(a.good)} {a.noun}"
    # Negated negative: a trap for naive bag-of-words models.
    return f"the {a.noun} {_be(a)} not {rng.choice(a.bad)} at all"


def _neg_clause(rng: random.Random, a: Aspect, strong: bool) -> str:
    i = rng.choice(_STRONG) if strong else rng.choice(_SOFT_BAD)
    r = rng.random()
    if r < 0.35:
        return f"the {a.noun} {_be(a)} {i}{rng.choice(a.bad)}"
    if r < 0.65:
        return f"the {a.noun} {rng.choice(a.bad_claims)}"
    if r < 0.82:
        # Negated positive: "the fit isn't great", "the sound is not very clear".
        neg = rng.choice(("n't", " not"))
        degree = rng.choice(("very ", "that ", ""))
        return f"the {a.noun} {_be(a)}{neg} {degree}{rng.choice(a.good)}"
    return f"the {a.noun} could be {rng.choice(('a lot ', 'much ', 'a bit ', ''))}better"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _aspect_sentence(rng: random.Random, a: Aspect, positive: bool, strong: bool) -> str:
    if positive and rng.random() < 0.2:
        return f"{rng.choice(_HAPPY)} the {a.noun}{rng.choice(('.', '.', '!'))}"
    if not positive and rng.random() < 0.2:
        return f"{rng.choice(_UNHAPPY)} the {a.noun}."
    clause = _pos_clause(rng, a, strong) if positive else _neg_clause(rng, a, strong)
    end = "!" if strong and rng.random() < 0.15 else "."
    return _cap(clause) + end


def _mixed_sentence(rng: random.Random, good: Aspect, bad: Aspect) -> str:
    p = _pos_clause(rng, good, strong=rng.random() < 0.5)
    n = _neg_clause(rng, bad, strong=rng.random() < 0.3)
    r = rng.random()
    if r < 0.4:
        return _cap(f"{p} but {n}.")
    if r < 0.6:
        return _cap(f"{p}, however {n}.")
    if r < 0.8:
        return _cap(f"{n}, although {p}.")
    return _cap(f"while {p}, {n}.")


def _typos(rng: random.Random, text: str) -> str:
    """Swap or drop a letter in ~2% of the longer words."""
    words = text.split(" ")
    for k, w in enumerate(words):
        if len(w) >= 4 and w.isalpha() and rng.random() < _TYPO_RATE:
            j = rng.randrange(1, len(w) - 1)
            if rng.random() < 0.5:
                words[k] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            else:
                words[k] = w[:j] + w[j + 1 :]
    return " ".join(words)


# Mid categories whose own aspects replace the top category's (records are not books).
_MID_ONLY = frozenset(("Music",))


def aspects_for(product: Product) -> tuple[Aspect, ...]:
    """What reviewers of `product` talk about (besides delivery, price, service ...)."""
    mid = MID_ASPECTS.get(product.mid, ())
    return mid if product.mid in _MID_ONLY else mid + TOP_ASPECTS[TOPS[product.top]]


def review_text(rng: random.Random, rating: int, product: Product) -> tuple[str | None, str]:
    """(title or None, text) for a review of `product` with `rating` stars."""
    specific = aspects_for(product)
    pool = list(specific)
    rng.shuffle(pool)
    generic = list(GENERIC)
    rng.shuffle(generic)
    n_body = rng.choices(range(1, 9), weights=_LENGTH_WEIGHTS)[0]
    this = "these" if product.plural else "this"
    fill = {
        "this": this,
        "noun": product.noun,
        "noun_sg": product.noun,
        "brand": product.brand,
        "who": rng.choice(_WHO),
        "when": rng.choice(_WHEN),
    }
    strong = rating in (1, 5) or rng.random() < 0.4
    p_pos = _P_POSITIVE[rating]
    sentences: list[str] = []
    weak_aspect = good_aspect = None
    if n_body >= 3 and rng.random() < 0.5:
        if rating >= 4 and rng.random() < 0.3:
            opener = rng.choice(_OPENERS_POS)
        elif rating <= 2 and rng.random() < 0.4:
            opener = rng.choice(_OPENERS_NEG)
        else:
            opener = rng.choice(_OPENERS_ANY)
        sentences.append(opener.format(**fill))
    n_aspect = max(1, n_body - len(sentences) - (1 if n_body >= 2 else 0))
    for k in range(n_aspect):
        # Mostly product-specific aspects, sometimes delivery/price/service.
        source = pool if pool and (rng.random() < 0.72 or not generic) else generic
        a = source.pop()
        if k > 0 and rating in (2, 3, 4) and rng.random() < _P_MIXED[rating] and (pool or generic):
            other = (pool or generic).pop()
            good, bad = (a, other) if rng.random() < p_pos else (other, a)
            sentences.append(_mixed_sentence(rng, good, bad))
            weak_aspect = weak_aspect or bad
            good_aspect = good_aspect or good
        else:
            # The first opinion follows the stars; later ones may disagree, but mildly.
            positive = rating >= 4 if k == 0 and rating != 3 else rng.random() < p_pos
            agrees = rating == 3 or positive == (rating >= 4)
            sentences.append(_aspect_sentence(rng, a, positive, strong and agrees))
            if positive:
                good_aspect = good_aspect or a
            else:
                weak_aspect = weak_aspect or a
        if not pool and not generic:
            break
    fill["weak"] = (weak_aspect or rng.choice(specific)).noun
    fill["good_aspect"] = (good_aspect or rng.choice(specific)).noun
    if n_body >= 2 or n_aspect == 0:
        sentences.append(rng.choice(CLOSERS[rating]).format(**fill))
    text = _typos(rng, " ".join(sentences))
    title = None if rng.random() < 0.07 else _cap(rng.choice(_TITLES[rating]).format(**fill))
    return title, text


# --- search queries ---------------------------------------------------------------------

_QUERY_PREFIX = ("best", "cheap", "sale", "gift", "new", "top rated", "discount", "premium")
_QUERY_SUFFIX = ("under 50", "for kids", "for men", "for women", "black", "set", "deal",
                 "2025", "reviews", "on sale", "xl", "small", "large")  # fmt: skip
_BARGAIN_WORDS = ("cheap", "sale", "discount", "deal", "offer", "bargain", "clearance")


def search_query(rng: random.Random, product: Product, bargain: bool) -> str:
    """What someone looking for something like `product` types into the shop search."""
    base = product.leaf.lower() if rng.random() < 0.6 else product.noun
    r = rng.random()
    if r < 0.25:
        q = f"{product.brand.lower()} {base}"
    elif r < 0.4:
        q = f"{rng.choice(_QUERY_PREFIX)} {base}"
    elif r < 0.55:
        q = f"{base} {rng.choice(_QUERY_SUFFIX)}"
    elif r < 0.62:
        q = product.name.lower()
    else:
        q = base
    if bargain and rng.random() < 0.5:
        q = f"{rng.choice(_BARGAIN_WORDS)} {q}"
    if rng.random() < 0.05:
        q = _typos_always(rng, q)
    return q


def _typos_always(rng: random.Random, q: str) -> str:
    if len(q) < 4:
        return q
    j = rng.randrange(1, len(q) - 1)
    return q[:j] + q[j + 1 :]
