"""Fake but real-looking personal data for the CRM extract: names, emails, phones, addresses.

Every value is invented; the lists only make the data look like a European/US shop's CRM,
including accented names, several phone formats and a little benign messiness (stray
spaces, mixed case) that the cleaning job must repair rather than reject.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

# Share of customers per country (the shop is German, with sizeable FR/GB/US business).
COUNTRY_WEIGHTS = {
    "DE": 25,
    "FR": 12,
    "NL": 8,
    "ES": 9,
    "IT": 9,
    "GB": 12,
    "US": 12,
    "SE": 4,
    "PL": 5,
    "BE": 4,
}

FIRST_NAMES = {
    "DE": "Anna Lena Jürgen Jörg Sophie Lukas Maximilian Katharina Björn Sören Ute Günter "
    "Felix Johanna Hannah Jonas Leonie Matthias Sabine Uwe Käthe Tobias Miriam Jan",
    "FR": "Camille Léa Chloé Hélène Théo Élodie Jérôme François Amélie Baptiste Océane "
    "Noël Inès Gaëlle Mathis Julien Zoé Benoît Léon Céline Clément Maël Éric Manon",
    "NL": "Daan Sanne Bram Femke Lotte Sem Thijs Anouk Joost Maarten Eline Ruud Floor "
    "Sven Jeroen Noortje Bas Esmée Wouter Iris Kees Roos Stijn Fenna",
    "ES": "José María Lucía Álvaro Sofía Hugo Martín Irene Íñigo Nuria Raúl Begoña Adrián "
    "Elena Pablo Jesús Ainhoa Sergio Marta Andrés Rocío Javier Carmen Óscar",
    "IT": "Giulia Francesco Alessandro Chiara Niccolò Martina Lorenzo Federica Matteo "
    "Giorgia Riccardo Elisa Nicolò Beatrice Andrea Sara Davide Ilaria Luca Francesca",
    "GB": "Oliver Amelia George Isla Harry Ava Jack Emily Charlie Sophie Thomas Grace "
    "William Olivia James Chloe Siobhan Rhys Niamh Callum Eilidh Aoife Owen Freya",
    "US": "Liam Emma Noah Olivia Ethan Ava Mason Madison Logan Harper Aiden Abigail Jayden "
    "Brianna DeShawn Latoya Carlos Mariana Tyler Kayla Brandon Jasmine Hunter Zoë",
    "SE": "Åsa Björn Sven Ingrid Märta Lars Elsa Oskar Linnéa Göran Astrid Nils Maja "
    "Håkan Saga Erik Alva Måns Ebba Per",
    "PL": "Łukasz Zofia Michał Małgorzata Paweł Agnieszka Wojciech Joanna Krzysztof "
    "Katarzyna Bartłomiej Ewa Jakub Magdalena Grzegorz Anna Piotr Żaneta Tomasz Alicja",
    "BE": "Lucas Emma Louis Olivia Arthur Louise Noah Mila Jules Elise Wout Hélène Lotte "
    "Thibault Marie Cédric Nathalie Pieter Ine Maxime",
}

LAST_NAMES = {
    "DE": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
    "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Krüger "
    "Hartmann Lange Köhler Weiß Groß",
    "FR": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
    "Laurent Lefèvre Michel Garcia Fournier Girard Bonnet Dupont Lambert Rousseau "
    "Faure Mercier Blanc Guérin Müller",
    "NL": "de Jong Jansen de Vries van den Berg van Dijk Bakker Janssen Visser Smit "
    "Meijer de Boer Mulder de Groot Bos Vos Peters Hendriks van Leeuwen Dekker Brouwer",
    "ES": "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín "
    "Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro "
    "Domínguez Vázquez Ibáñez",
    "IT": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno "
    "Gallo Conti De Luca Mancini Costa Giordano Rizzo Lombardi Moretti D'Angelo",
    "GB": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright "
    "Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke O'Brien "
    "McDonald Hughes Edwards",
    "US": "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
    "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Nguyen Kim "
    "Patel O'Connor Washington",
    "SE": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson "
    "Svensson Gustafsson Pettersson Jönsson Lindström Åberg Sjöberg Ström",
    "PL": "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
    "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Krawczyk Piotrowski",
    "BE": "Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De Smet "
    "Dubois Lambert Dupont Martin Lejeune Renard Vermeulen Desmet",
}

# Multi-word last names are kept together by splitting on a double space instead.
_MULTI = {"de Jong", "de Vries", "van den Berg", "van Dijk", "de Boer", "de Groot"}
_MULTI |= {"van Leeuwen", "De Luca", "De Smet"}


def _split_names(text: str) -> tuple[str, ...]:
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2):
            joined = " ".join(words[i : i + n])
            if joined in _MULTI:
                out.append(joined)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return tuple(out)


_FIRST = {c: _split_names(v) for c, v in FIRST_NAMES.items()}
_LAST = {c: _split_names(v) for c, v in LAST_NAMES.items()}

CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart",
           "Düsseldorf", "Leipzig", "Dresden", "Nürnberg", "Bremen", "Freiburg im Breisgau"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg",
           "Montpellier", "Bordeaux", "Lille", "Besançon", "Orléans"),
    "NL": ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen",
           "Tilburg", "Almere", "Breda", "Nijmegen", "'s-Hertogenbosch"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao",
           "Córdoba", "Alicante", "Valladolid", "A Coruña"),
    "IT": ("Roma", "Milano", "Napoli", "Torino", "Palermo", "Genova", "Bologna",
           "Firenze", "Bari", "Verona", "Forlì"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol",
           "Edinburgh", "Liverpool", "Cardiff", "Belfast", "Newcastle upon Tyne"),
    "US": ("New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia",
           "San Antonio", "San Diego", "Dallas", "Seattle", "Denver", "Boston"),
    "SE": ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro",
           "Linköping", "Helsingborg", "Jönköping", "Umeå"),
    "PL": ("Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin",
           "Bydgoszcz", "Lublin", "Białystok"),
    "BE": ("Bruxelles", "Antwerpen", "Gent", "Charleroi", "Liège", "Brugge", "Namur",
           "Leuven", "Mons", "Mechelen"),
}  # fmt: skip

# US cities map onto US home zones so event timestamps carry plausible offsets.
US_CITY_ZONE = {
    "New York": "US_EAST", "Philadelphia": "US_EAST", "Boston": "US_EAST",
    "Chicago": "US_CENTRAL", "Houston": "US_CENTRAL", "San Antonio": "US_CENTRAL",
    "Dallas": "US_CENTRAL", "Phoenix": "US_MOUNTAIN", "Denver": "US_MOUNTAIN",
    "Los Angeles": "US_PACIFIC", "San Diego": "US_PACIFIC", "Seattle": "US_PACIFIC",
}  # fmt: skip

STREETS = {
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Goethestraße",
           "Lindenallee", "Am Mühlbach", "Friedrichstraße", "Bergstraße", "Kirchplatz"),
    "FR": ("rue de la Paix", "avenue Victor Hugo", "boulevard Saint-Michel", "rue des Écoles",
           "place de la République", "rue du Général Leclerc", "chemin des Vignes"),
    "NL": ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Prinsengracht",
           "Julianalaan", "Schoolstraat"),
    "ES": ("Calle Mayor", "Avenida de la Constitución", "Calle Real", "Plaza de España",
           "Calle del Sol", "Paseo de Gracia", "Calle Nueva"),
    "IT": ("Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele", "Via Dante",
           "Piazza della Libertà", "Via dei Mille", "Viale Mazzini"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane",
           "Manor Road", "Park Avenue", "Queen's Road"),
    "US": ("Main St", "Oak Avenue", "Maple Drive", "Washington Blvd", "Cedar Lane",
           "Elm Street", "Lakeview Rd", "Sunset Blvd"),
    "SE": ("Storgatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Järnvägsgatan",
           "Södra vägen", "Ängsvägen"),
    "PL": ("ul. Długa", "ul. Marszałkowska", "ul. Polna", "ul. Słoneczna", "ul. Leśna",
           "ul. Kościuszki", "ul. Żeromskiego"),
    "BE": ("Rue Royale", "Grote Markt", "Kerkstraat", "Avenue Louise", "Stationsstraat",
           "Rue de la Station", "Meir"),
}  # fmt: skip

EMAIL_DOMAINS = {
    "DE": ("gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.de", "posteo.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr"),
    "NL": ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com"),
    "ES": ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"),
    "IT": ("gmail.com", "libero.it", "virgilio.it", "alice.it", "hotmail.it", "tiscali.it"),
    "GB": ("gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk", "sky.com"),
    "US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net"),
    "SE": ("gmail.com", "hotmail.se", "telia.com", "outlook.com", "bredband.net"),
    "PL": ("gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl"),
    "BE": ("gmail.com", "skynet.be", "telenet.be", "hotmail.com", "proximus.be"),
}

# Characters NFKD does not decompose into ASCII.
_FOLD = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "'": ""})


def ascii_fold(text: str) -> str:
    """'Łukasz Wiśniewski' -> 'Lukasz Wisniewski' (what people type into email addresses)."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if ch.isascii())


@dataclass(slots=True)
class Person:
    """Name, contact and address of one (invented) customer."""

    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    postcode: str
    country: str


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _postcode(rng: random.Random, country: str) -> str:
    r = rng.randint
    if country == "NL":
        return f"{r(1000, 9999)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABEHKRSTX')}"
    if country == "GB":
        area = rng.choice(("SW1A", "EC2V", "M1", "B15", "LS6", "G12", "BS8", "EH3", "L17"))
        return f"{area} {r(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXY')}{rng.choice('ABDEHJLNPRSTUWZ')}"
    if country == "SE":
        return f"{r(100, 989)} {r(10, 99)}"
    if country == "PL":
        return f"{r(0, 99):02d}-{r(0, 999):03d}"
    if country == "BE":
        return str(r(1000, 9999))
    return f"{r(1000, 99999):05d}"  # DE, FR, ES, IT, US (ZIP)


def _phone(rng: random.Random, country: str) -> str:
    d = lambda n: _digits(rng, n)  # noqa: E731 - tiny local shorthand
    style = rng.random()
    if country == "US":
        area = str(rng.randint(201, 989))
        if style < 0.5:
            return f"({area}) {d(3)}-{d(4)}"
        if style < 0.8:
            return f"+1 {area}-{d(3)}-{d(4)}"
        return f"{area}.{d(3)}.{d(4)}"
    if country == "GB":
        if style < 0.4:
            return f"+44 20 {d(4)} {d(4)}"
        if style < 0.7:
            return f"07{d(3)} {d(6)}"
        return f"0044 20 {d(4)} {d(4)}"
    if country == "DE":
        city = rng.choice(("30", "40", "89", "221", "69", "711"))
        if style < 0.45:
            return f"+49 {city} {d(7)}"
        if style < 0.75:
            return f"0{city} {d(7)}"
        return f"+49 (0)15{rng.randint(1, 9)} {d(8)}"
    if country in ("FR", "BE"):
        code = "33" if country == "FR" else "32"
        if style < 0.5:
            return f"+{code} {rng.randint(1, 7)} {d(2)} {d(2)} {d(2)} {d(2)}"
        return f"0{rng.randint(1, 7)} {d(2)} {d(2)} {d(2)} {d(2)}"
    prefix = {"NL": "31", "ES": "34", "IT": "39", "SE": "46", "PL": "48"}[country]
    if style < 0.6:
        return f"+{prefix} {d(2)} {d(3)} {d(4)}"
    if style < 0.85:
        return f"00{prefix} {d(3)} {d(6)}"
    return f"0{d(2)}-{d(7)}"


def _street(rng: random.Random, country: str) -> str:
    name = rng.choice(STREETS[country])
    num = str(rng.randint(1, 180))
    if rng.random() < 0.08:
        num += rng.choice("abc")
    line = f"{num} {name}" if country in ("FR", "GB", "US") else f"{name} {num}"
    # A few address lines carry an extra part after a comma (CSV must quote them).
    if rng.random() < 0.04:
        line += rng.choice((", Apt 4", ", 2. OG", ", Hinterhaus", ", Bât. B", ", Flat 3"))
    return line


def make_email(rng: random.Random, first: str, last: str, country: str, birth_year: int) -> str:
    """A plausible, clean address derived from the name (messiness is added separately)."""
    f = ascii_fold(first).lower().replace(" ", "")
    last_part = ascii_fold(last).lower().replace(" ", "")
    n = rng.random()
    if n < 0.25:
        local = f"{f}.{last_part}{rng.randint(1, 99)}"
    elif n < 0.45:
        local = f"{f[0]}{last_part}{birth_year % 100:02d}"
    elif n < 0.6:
        local = f"{f}_{last_part}{rng.randint(100, 999)}"
    elif n < 0.75:
        local = f"{f}{last_part[:3]}{birth_year}"
    elif n < 0.9:
        local = f"{f}.{last_part}.{rng.randint(1, 9999)}"
    else:
        local = f"{last_part}.{f[0]}{rng.randint(10, 99)}"
    return f"{local}@{rng.choice(EMAIL_DOMAINS[country])}"


def messy_email(rng: random.Random, email: str) -> str:
    """Benign messiness a CRM accumulates: stray spaces and mixed case (cleaning must fix)."""
    r = rng.random()
    if r < 0.05:
        email = f" {email}"
    elif r < 0.09:
        email = f"{email} "
    r = rng.random()
    if r < 0.06:
        email = email.upper()
    elif r < 0.16:
        local, _, domain = email.partition("@")
        email = f"{local[:1].upper()}{local[1:]}@{domain.capitalize()}"
    return email


def messy_country(rng: random.Random, country: str) -> str:
    r = rng.random()
    if r < 0.05:
        return country.lower()
    if r < 0.08:
        return country.capitalize()
    if r < 0.11:
        return f" {country}"
    if r < 0.13:
        return f"{country} "
    return country


def make_person(rng: random.Random, country: str, birth_year: int) -> Person:
    """Invent one person living in `country`."""
    first = rng.choice(_FIRST[country])
    last = rng.choice(_LAST[country])
    email = make_email(rng, first, last, country, birth_year)
    phone = "" if rng.random() < 0.04 else _phone(rng, country)
    return Person(
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        street=_street(rng, country),
        city=rng.choice(CITIES[country]),
        postcode=_postcode(rng, country),
        country=country,
    )


def move_house(rng: random.Random, person: Person) -> tuple[str, str, str]:
    """New (street, city, postcode) in the same country, for a CRM update."""
    country = person.country
    cities = [c for c in CITIES[country] if c != person.city]
    return _street(rng, country), rng.choice(cities), _postcode(rng, country)
