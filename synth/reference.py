"""Static reference data of the synthetic drop: names, streets, towns, domains, sizes, categories."""

from __future__ import annotations


# Official (doop)names with the roepnamen people actually use: the v1 list (116 of its 139 pairs are
# in the resolver's list); v2 uses synth/names.py instead.
_FORMAL_MALE: dict[str, tuple[str, ...]] = {
    "Johannes": ("Hans", "Jan", "Joop", "Johan"), "Cornelis": ("Kees", "Cor", "Niels"),
    "Pieter": ("Piet", "Peter"), "Willem": ("Wim", "Pim"), "Hendrik": ("Henk", "Rik", "Henny"),
    "Jacobus": ("Koos", "Jaap", "Jaco"), "Nicolaas": ("Klaas", "Niek", "Nico"),
    "Alexander": ("Sander", "Alex"), "Sebastiaan": ("Bas",), "Gerardus": ("Gerard", "Gert"),
    "Theodorus": ("Theo", "Ruud"), "Antonius": ("Toon", "Ton", "Anton"),
    "Adrianus": ("Arie", "Jan", "Adrie"), "Franciscus": ("Frans", "Frank"),
    "Wilhelmus": ("Wim", "Willem"), "Petrus": ("Piet", "Peter"), "Josephus": ("Joop", "Jos", "Sjef"),
    "Lambertus": ("Bert",), "Albertus": ("Bert", "Ab"), "Hermanus": ("Herman", "Manus"),
    "Gijsbertus": ("Gijs", "Bert"), "Bernardus": ("Ben", "Bernard"), "Leonardus": ("Leo", "Leon"),
    "Marinus": ("Rinus", "Marien"), "Martinus": ("Martin", "Tinus"), "Frederik": ("Frits", "Freek"),
    "Matthijs": ("Thijs",), "Bartholomeus": ("Bart",), "Christiaan": ("Chris",),
    "Jacob": ("Jaap", "Koos"), "Robertus": ("Rob", "Robert"), "Arnoldus": ("Arnold", "Noud"),
    "Everardus": ("Evert",), "Dirk": ("Dick",), "Maximiliaan": ("Max",),
    "Mohamed": ("Mohammed", "Muhammed"), "Youssef": ("Yousef", "Youssouf"), "Ahmed": ("Ahmet",),
}
_FORMAL_FEMALE: dict[str, tuple[str, ...]] = {
    "Elisabeth": ("Lies", "Bep", "Els", "Liesbeth"), "Maria": ("Mieke", "Ria", "Marieke", "Mia"),
    "Geertruida": ("Truus", "Trudy"), "Catharina": ("Karin", "Tineke", "Toos", "Ina"),
    "Wilhelmina": ("Mien", "Willy", "Wilma"), "Johanna": ("Anneke", "Jo", "Hanneke", "Joke"),
    "Cornelia": ("Corrie", "Nel", "Nelleke"), "Hendrika": ("Riek", "Rika", "Henny"),
    "Jacoba": ("Coby", "Co"), "Petronella": ("Nel", "Nelly", "Ellen"),
    "Anna": ("Anneke", "Ans", "Annie"), "Margaretha": ("Greet", "Margriet", "Margot"),
    "Alida": ("Alie", "Lida"), "Gerarda": ("Gerda",), "Theodora": ("Dora", "Thea"),
    "Antonia": ("Toni", "Toos", "Tonny"), "Francisca": ("Cisca", "Francien"),
    "Christina": ("Stien", "Tineke"), "Josephina": ("Fien", "José"), "Helena": ("Lenie", "Heleen"),
    "Susanna": ("Suus", "Sanne"), "Alexandra": ("Sandra", "Lex"), "Adriana": ("Adrie", "Jeanne"),
    "Everdina": ("Dini",), "Fatima": ("Fatma",), "Khadija": ("Khadidja",),
}
# Names of the generations born roughly 1950-1990.
_CLASSIC_MALE = (
    "Jan", "Peter", "Hans", "Kees", "Marco", "Richard", "Mark", "Erik", "Frank", "Robert", "Paul",
    "Rob", "Martin", "Michel", "Dennis", "Patrick", "Jeroen", "Sander", "Arjan", "Ronald", "René",
    "Edwin", "Marcel", "Remco", "Bart", "Wouter", "Bas", "Joost", "Maarten", "Niels", "Roy",
    "Sven", "Kevin", "Tim", "Stefan", "Mike", "Ruud", "Johan", "André", "Dirk", "Harm", "Gert-Jan",
    "Jan-Willem", "Pieter-Jan", "Daniël", "Michaël", "Raphaël", "Noël",
)
_CLASSIC_FEMALE = (
    "Anja", "Monique", "Ingrid", "Petra", "Sandra", "Linda", "Marieke", "Esther", "Wendy",
    "Patricia", "Nicole", "Karin", "Marjolein", "Saskia", "Miranda", "Ellen", "Annemarie", "Irene",
    "Jolanda", "Marian", "Yvonne", "Kim", "Sanne", "Lisa", "Anouk", "Femke", "Mirjam", "Ilse",
    "Inge", "Chantal", "Manon", "Renée", "José", "Anne-Marie", "Marloes", "Eva", "Iris", "Maaike",
    "Daphne", "Tamara", "Bianca", "Judith", "Zoë", "Chloë", "Anaïs", "Inès",
)
_ACCENT_ADD = {
    "Jose": "José", "Rene": "René", "Andre": "André", "Zoe": "Zoë", "Daniel": "Daniël",
    "Michael": "Michaël", "Renee": "Renée", "Ines": "Inès", "Anais": "Anaïs", "Noel": "Noël",
    "Chloe": "Chloë", "Raphael": "Raphaël", "Gulsen": "Gülsen", "Ozlem": "Özlem",
}
# Twins: similar names ("Daan"/"Dean") are what makes them hard.
_TWIN_NAMES = (
    (("Daan", "M"), ("Dean", "M")), (("Sem", "M"), ("Sam", "M")), (("Luuk", "M"), ("Lucas", "M")),
    (("Thijs", "M"), ("Thomas", "M")), (("Jens", "M"), ("Jesse", "M")), (("Milan", "M"), ("Mika", "M")),
    (("Emma", "F"), ("Emmy", "F")), (("Lotte", "F"), ("Lieke", "F")), (("Anna", "F"), ("Anne", "F")),
    (("Julia", "F"), ("Julie", "F")), (("Fenna", "F"), ("Femke", "F")), (("Sara", "F"), ("Sanne", "F")),
    (("Noah", "M"), ("Noor", "F")), (("Finn", "M"), ("Fleur", "F")), (("Daan", "M"), ("Dana", "F")),
)
_STREET_SUFFIXES = ("straat", "straat", "straat", "laan", "laan", "weg", "weg", "plein", "hof",
                    "singel", "dreef", "kade", "pad", "steeg")
_PARTICLES = (
    "van der", "van den", "van de", "van 't", "in 't", "op den", "op de", "in de", "van", "de",
    "den", "der", "ter", "ten", "te",
)
_COMMON_PARTICLE_SURNAMES = (
    ("de", "Jong"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("de", "Boer"),
    ("de", "Groot"), ("van", "Leeuwen"), ("de", "Wit"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("de", "Haan"), ("van den", "Heuvel"), ("van der", "Veen"),
    ("van den", "Broek"), ("de", "Bruijn"), ("de", "Bruin"), ("van der", "Heijden"), ("van", "Beek"),
    ("van", "Vliet"), ("van de", "Ven"), ("van", "Dam"), ("van der", "Wal"), ("de", "Kok"),
    ("van", "Wijk"), ("van den", "Brink"), ("van der", "Heide"), ("van", "Dongen"), ("de", "Lange"),
    ("de", "Vos"), ("van", "Rijn"), ("van der", "Berg"), ("ter", "Horst"), ("van 't", "Hof"),
    ("ten", "Cate"), ("in 't", "Veld"), ("de", "Ruiter"), ("van der", "Laan"), ("van", "Os"),
    ("de", "Koning"), ("van", "Doorn"), ("ten", "Brink"), ("van", "Essen"), ("de", "Jager"),
    ("van", "Zanten"), ("van", "Loon"), ("van der", "Velden"), ("van", "Gils"), ("op den", "Akker"),
    ("van 't", "Zand"), ("ter", "Haar"), ("van de", "Kamp"), ("de", "Ridder"), ("van", "Schaik"),
    ("van den", "Bosch"), ("van der", "Sluis"), ("de", "Leeuw"), ("van", "Buuren"), ("van der", "Zee"),
)
_COMMON_PLAIN_SURNAMES = (
    "Jansen", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
    "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Smits", "Kok", "Jacobs", "Vermeulen", "Schouten",
    "Willems", "Hoekstra", "Maas", "Verhoeven", "Koster", "Prins", "Blom", "Huisman", "Peeters",
    "Post", "Kuipers", "Kuiper", "Veenstra", "Kramer", "Scholten", "Martens", "Evers", "Hermans",
    "Postma", "Gerritsen", "Bosman", "Timmermans", "Groen", "Verbeek", "Sanders", "Bouma", "Mol",
    "Hofman", "Molenaar", "Boon", "Kamphuis", "Vink", "Claassen", "Meyer", "Jonker", "Wolters",
    "Lammers", "Driessen", "Verschuren", "Hoogendoorn", "Koopman", "Bosch", "Schipper",
)
_MIGRANT_SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Bouzid", "Benali",
    "Tahiri", "Ouali", "El Amrani", "El Idrissi", "Ait Taleb", "Nguyen", "Tan", "Lie", "Ramdin",
    "Biharie", "Sewnarain", "Kromosoeto", "Kowalski", "Nowak",
)
# Given names that go with a surname's origin (Turkish, Moroccan); others take Dutch names.
_ORIGIN_OF = {s: "tr" for s in _MIGRANT_SURNAMES[:8]} | {s: "ma" for s in _MIGRANT_SURNAMES[8:15]}
_ORIGIN_NAMES = {
    ("tr", "M"): ("Mehmet", "Mustafa", "Emre", "Burak", "Murat", "Hasan", "Yusuf", "Kerem", "Ahmed"),
    ("tr", "F"): ("Ayşe", "Gülsen", "Özlem", "Elif", "Zeynep", "Fatma", "Hatice", "Büşra", "Esra"),
    ("ma", "M"): ("Mohamed", "Youssef", "Rachid", "Karim", "Said", "Mustafa", "Ayoub", "Bilal"),
    ("ma", "F"): ("Fatima", "Khadija", "Naima", "Samira", "Latifa", "Nadia", "Imane", "Hanane"),
}
_CLASSIC_STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsstraat", "Schoolstraat", "Julianastraat",
    "Wilhelminastraat", "Beatrixlaan", "Nieuwstraat", "Hoofdstraat", "Lindelaan", "Eikenlaan",
    "Kastanjelaan", "Berkenlaan", "Merelstraat", "Vondellaan", "Burgemeester de Withstraat",
    "Prins Bernhardlaan", "Koningin Julianaweg", "Van Goghstraat", "Graaf Florisstraat",
    "Burgemeester van Walsumweg", "Prins Hendrikkade", "Marktstraat", "Emmastraat",
    "Oranjestraat", "Parkweg", "Spoorstraat", "Industrieweg", "Rembrandtlaan",
    "Van der Helststraat", "Burgemeester Roosstraat", "Prinses Irenestraat", "Tulpstraat",
)
# Big towns: name, aliases, postcode range, area code, relative size, number of stores.
_BIG_CITIES = (
    ("Amsterdam", (), 1011, 1109, "020", 9.0, 6), ("Rotterdam", (), 3011, 3089, "010", 6.5, 5),
    ("Den Haag", ("'s-Gravenhage",), 2491, 2597, "070", 5.5, 4),
    ("Utrecht", (), 3511, 3585, "030", 3.6, 3), ("Eindhoven", (), 5611, 5658, "040", 2.4, 2),
    ("Groningen", (), 9711, 9747, "050", 2.3, 2), ("Tilburg", (), 5011, 5049, "013", 2.2, 2),
    ("Almere", (), 1311, 1364, "036", 2.1, 2), ("Breda", (), 4811, 4839, "076", 1.9, 2),
    ("Nijmegen", (), 6511, 6546, "024", 1.8, 2), ("Apeldoorn", (), 7311, 7339, "055", 1.6, 1),
    ("Haarlem", (), 2011, 2037, "023", 1.6, 1), ("Arnhem", (), 6811, 6846, "026", 1.6, 1),
    ("Enschede", (), 7511, 7548, "053", 1.6, 1), ("Amersfoort", (), 3811, 3829, "033", 1.6, 1),
    ("Zaandam", (), 1501, 1509, "075", 1.5, 1),
    ("'s-Hertogenbosch", ("Den Bosch",), 5211, 5247, "073", 1.5, 1),
    ("Zwolle", (), 8011, 8046, "038", 1.3, 1), ("Leiden", (), 2311, 2334, "071", 1.3, 1),
    ("Maastricht", (), 6211, 6229, "043", 1.2, 1), ("Dordrecht", (), 3311, 3329, "078", 1.2, 1),
    ("Zoetermeer", (), 2711, 2729, "079", 1.2, 1), ("Leeuwarden", (), 8911, 8939, "058", 1.2, 1),
    ("Delft", (), 2611, 2629, "015", 1.0, 1), ("Alkmaar", (), 1811, 1827, "072", 1.0, 1),
    ("Hilversum", (), 1211, 1223, "035", 0.9, 1),
)
_SMALL_AREA_CODES = (
    "0111 0113 0114 0115 0117 0118 0161 0162 0164 0165 0166 0167 0168 0172 0174 0180 0181 0182 "
    "0183 0184 0186 0187 0222 0223 0224 0226 0227 0228 0229 0251 0252 0255 0294 0297 0299 0313 "
    "0314 0315 0316 0317 0318 0320 0321 0341 0342 0343 0344 0345 0346 0347 0348 0411 0412 0413 "
    "0416 0418 0475 0478 0481 0485 0486 0487 0488 0492 0493 0495 0497 0499 0511 0512 0513 0514 "
    "0515 0516 0517 0518 0519 0521 0522 0523 0524 0525 0527 0528 0529 0541 0543 0544 0545 0546 "
    "0547 0548 0561 0562 0566 0570 0571 0572 0573 0575 0577 0578 0591 0592 0593 0594 0595 0596 "
    "0597 0598 0599"
).split()
_FOREIGN = {
    "BE": dict(
        cities=(("Antwerpen", "2000"), ("Gent", "9000"), ("Brugge", "8000"), ("Leuven", "3000"),
                ("Hasselt", "3500"), ("Mechelen", "2800"), ("Turnhout", "2300")),
        streets=("Meir", "Kerkstraat", "Statiestraat", "Kapelsestraat", "Nationalestraat",
                 "Turnhoutsebaan", "Brusselsesteenweg"),
        surnames=("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes",
                  "Goossens", "Wouters", "De Smet", "Van Damme", "De Backer", "Vandenberghe"),
        male=("Wout", "Jens", "Koen", "Pieter", "Stijn", "Bram", "Thibault"),
        female=("Lien", "Sien", "Griet", "Els", "Ann", "Eline", "Febe"),
        phone=("32", "47"), pc_prefix="B-",
    ),
    "DE": dict(
        cities=(("Berlin", "10115"), ("Köln", "50667"), ("Düsseldorf", "40213"),
                ("Aachen", "52062"), ("Kleve", "47533"), ("Münster", "48143"), ("Emmerich", "46446")),
        streets=("Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Lindenstraße",
                 "Kirchweg"),
        surnames=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
                  "Becker", "Hoffmann", "Schäfer"),
        male=("Jürgen", "Stefan", "Andreas", "Jörg", "Björn", "Matthias", "Lukas"),
        female=("Sabine", "Ute", "Anke", "Jana", "Katrin", "Lea", "Jülide"),
        phone=("49", "15"), pc_prefix="D-",
    ),
}
_EMAIL_DOMAINS = (
    ("gmail.com", 34), ("hotmail.com", 20), ("outlook.com", 8), ("live.nl", 5), ("ziggo.nl", 6),
    ("kpnmail.nl", 5), ("hotmail.nl", 3), ("icloud.com", 5), ("yahoo.com", 3), ("home.nl", 3),
    ("planet.nl", 3), ("xs4all.nl", 2), ("hetnet.nl", 2), ("telfort.nl", 1),
)
_ISP_DOMAINS = ("ziggo.nl", "kpnmail.nl", "home.nl", "planet.nl", "xs4all.nl", "hetnet.nl")
_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.co", "gamil.com", "gmail.nl", "gmai.com"),
    "hotmail.com": ("hotmial.com", "hotmail.co", "hotmai.com", "hotmil.com"),
    "outlook.com": ("outlok.com", "outlook.nl"), "ziggo.nl": ("ziggo.com", "zigo.nl"),
    "kpnmail.nl": ("kpnmail.com", "kpmail.nl"), "live.nl": ("live.com", "lve.nl"),
    "icloud.com": ("icloud.nl", "iclould.com"), "planet.nl": ("planet.com",),
}
_KEYBOARD = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy",
    "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "n", "n": "bm", "o": "ipl", "p": "o",
    "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij", "v": "cb", "w": "qes", "x": "zc",
    "y": "tu", "z": "xs",
}
_LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_WOMEN_SIZE_W = (0.08, 0.22, 0.32, 0.23, 0.10, 0.05)
_MEN_SIZE_W = (0.02, 0.10, 0.30, 0.33, 0.17, 0.08)
_KIDS_CM = (56, 62, 68, 74, 80, 86, 92, 98, 104, 110, 116, 122, 128, 134, 140, 146, 152, 158, 164)
_DELIVERY = (("home", 0.6), ("pickup_point", 0.25), ("store_pickup", 0.15))
_SLOTS = (("evening", 0.35), ("saturday_morning", 0.2), ("saturday_afternoon", 0.12),
          ("weekday_daytime", 0.23), ("sunday", 0.1))
# category: (sku prefix, price low, price high, sizing)
_CATEGORIES = {
    "womens_clothing": ("WCL", 9.0, 89.0, "women"), "mens_clothing": ("MCL", 9.0, 99.0, "men"),
    "kids_clothing": ("KCL", 5.0, 39.0, "kids"), "shoes": ("SHO", 19.0, 119.0, "shoe"),
    "dog_food": ("DOG", 8.0, 49.0, None), "cat_food": ("CAT", 6.0, 39.0, None),
    "pet_accessories": ("PET", 3.0, 59.0, None), "baby": ("BAB", 5.0, 45.0, None),
    "household": ("HOU", 2.0, 49.0, None), "beauty": ("BEA", 3.0, 39.0, None),
    "toys": ("TOY", 5.0, 69.0, None), "garden": ("GAR", 4.0, 99.0, None),
}
# Food for the pets only some configurations have; their SKUs come from a random stream of their own,
# so that adding them left the draws of every existing seed as they were.
_MORE_PET_FOOD = {"bird_food": ("BRD", 3.0, 29.0, None), "rabbit_food": ("RAB", 4.0, 35.0, None)}
_PET_FOOD = {"dog": "dog_food", "cat": "cat_food", "bird": "bird_food", "rabbit": "rabbit_food"}
# The renamed taxonomy (generate_drop(taxonomy="renamed")): categories as another retailer names them.
_RENAMED = {"womens_clothing": "clothing", "mens_clothing": "clothing", "dog_food": "pet_food/dog",
            "cat_food": "pet_food/cat", "bird_food": "pet_food/bird", "rabbit_food": "pet_food/rabbit"}
_RENAMED_PETS_CONFIG = {"bird_rate": 0.06, "rabbit_rate": 0.05}
TAXONOMIES = ("default", "renamed")
