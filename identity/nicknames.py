"""Dutch given names and the short forms people use for them: pure data and look-ups.

A formal name ("Johannes") is written on the loyalty-card form; the same person says "Hans" to a
service agent. Each group below lists a formal name first, then the forms it goes by. A short form
may belong to several groups ("Jan" is short for Johannes and for Adrianus), so two names are
variants of each other when they share any group.
"""

from __future__ import annotations

from functools import lru_cache

_GROUPS: tuple[tuple[str, ...], ...] = (
    ("johannes", "jan", "hans", "joop", "johan", "jo", "hannes", "jon", "jean", "john", "joh", "jannes", "jens"),
    ("johanna", "jo", "anneke", "hanneke", "hanna", "hannie", "jans", "joke", "jopie", "annie", "jantje", "janna"),
    ("adrianus", "arie", "adriaan", "ad", "janus", "aad", "adri", "jaan", "jan"),
    ("adriana", "jaantje", "adrie", "ria", "janny", "jannie", "adri"),
    ("cornelis", "kees", "cor", "niels", "corneel", "cees", "corne", "neels"),
    ("cornelia", "corrie", "cor", "nel", "neeltje", "lia", "cora", "nelleke", "conny"),
    ("pieter", "piet", "peter", "pier", "pierre", "pit", "petrus"),
    ("petronella", "nel", "nelly", "pietje", "petra", "ella", "pietronella"),
    ("willem", "wim", "wil", "willy", "pim", "wiel", "william", "will", "wimpie", "bill"),
    ("wilhelmina", "mien", "willy", "wil", "mina", "willemijn", "minke", "helma", "wilma", "mientje"),
    ("hendrik", "henk", "henny", "rik", "hein", "harrie", "harry", "hendrikus", "henry", "henri", "dirk"),
    ("hendrika", "riek", "rika", "henny", "drika", "ria", "rieky"),
    ("elisabeth", "lies", "bep", "els", "betty", "liesbeth", "elise", "lisa", "liza", "bettie", "sabine", "ilse", "elsbeth", "beth", "liesje"),
    ("maria", "mieke", "ria", "marieke", "mia", "marie", "mies", "maaike", "mary", "marja", "rietje", "miep", "maartje", "marijke", "mariska"),
    ("geertruida", "truus", "geertje", "trudy", "gerda", "truida", "trui", "gertrude"),
    ("jacobus", "koos", "jaap", "jacob", "sjaak", "co", "cobus", "jack", "jacques", "jakob", "kobus", "job"),
    ("jacoba", "coby", "co", "jacqueline", "jacky", "kobie", "coba", "bea"),
    ("nicolaas", "klaas", "niek", "nico", "claas", "nick", "nicholas", "nicolai", "niels"),
    ("alexander", "sander", "alex", "lex", "xander", "sasha", "sascha", "alec"),
    ("alexandra", "sandra", "alex", "sasha", "lexa", "xandra"),
    ("sebastiaan", "bas", "sebas", "bastiaan", "sebastian", "seb"),
    ("catharina", "karin", "tineke", "trijntje", "toos", "rina", "ina", "cato", "katrien", "kaat", "catrien", "katja", "kitty", "cathy", "catherine", "caroline", "karen", "riny"),
    ("gerardus", "gerard", "gert", "gerrit", "geert", "gerhard", "sjra", "ger", "gerry", "ruud"),
    ("theodorus", "theo", "ruud", "dorus", "teun", "door", "ted", "tom"),
    ("antonius", "toon", "ton", "anton", "teun", "toine", "tony", "tonnie", "antoon", "anthony"),
    ("antonia", "toos", "tonny", "toni", "antoinette", "tonia", "nettie"),
    ("franciscus", "frans", "frank", "cis", "sjef", "francis", "fons", "frankie"),
    ("josephus", "joost", "joep", "sjef", "jos", "joseph", "jozef", "joos", "seppe"),
    ("josephina", "josje", "fien", "fientje", "josien", "josephine", "jose", "joke"),
    ("martinus", "martin", "tinus", "maarten", "martijn", "tijn", "mart", "mertens"),
    ("wilhelmus", "wim", "willem", "pim", "wil", "wiel", "helmus", "willy"),
    ("abraham", "bram", "braam", "abe", "abe", "ab"),
    ("christiaan", "chris", "krijn", "christian", "stijn", "kris"),
    ("christina", "chris", "stien", "tineke", "christine", "tina", "kristina", "kirsten", "stientje"),
    ("daniel", "daan", "dan", "danny", "daniël"),
    ("david", "dave", "davy", "daaf", "daf"),
    ("thomas", "tom", "thom", "tommy", "tomas", "maas"),
    ("matthijs", "thijs", "ties", "mathijs", "matthias", "mathias", "matt", "tijs"),
    ("michiel", "michael", "mike", "michel", "mick", "chiel", "machiel", "migiel"),
    ("benjamin", "ben", "benny", "bennie"),
    ("robert", "rob", "robbie", "bert", "bob", "robbert", "robin"),
    ("albertus", "bert", "albert", "ab", "appie", "bertus", "bart"),
    ("bartholomeus", "bart", "bartel", "mees", "meus", "tolly"),
    ("lambertus", "bert", "lambert", "bertus", "lammert"),
    ("hubertus", "huub", "bert", "hubert", "hub", "huib"),
    ("engelbertus", "bert", "engel", "engelbert"),
    ("frederik", "frits", "freek", "fred", "freddy", "frederick", "rik", "friso", "eric"),
    ("richard", "rick", "rik", "richie", "ricky", "dick", "ricardo"),
    ("dirk", "dick", "dirkje", "diederik", "derk", "dik"),
    ("gijsbertus", "gijs", "bert", "gijsbert", "gijsje"),
    ("reinier", "rein", "reinout", "rene", "reinder", "ray"),
    ("lodewijk", "louis", "lou", "wijk", "ludo", "loek", "lowie", "lodewijkje"),
    ("leonardus", "leo", "leon", "leen", "lenny", "leonard", "nard", "naad"),
    ("marinus", "rinus", "mari", "marien", "rien", "rinie"),
    ("arnoldus", "arnold", "arno", "noud", "nol", "arend", "aart"),
    ("everhardus", "evert", "eef", "eppo", "ever"),
    ("stephanus", "stefan", "steef", "stephan", "steven", "stef", "fanus", "steve"),
    ("anna", "anne", "anja", "annie", "ans", "anneke", "annet", "annette", "ank", "anke", "anouk", "hanna", "hanneke"),
    ("margaretha", "greet", "margriet", "grietje", "marga", "margot", "greta", "gretha", "meta", "marjolein", "margreet", "grete", "margit", "rita"),
    ("hermina", "mien", "minie", "herma", "mina", "hermien"),
    ("helena", "leny", "lenie", "helen", "heleen", "lena", "leen", "ellen", "elly", "elena", "ilona"),
    ("susanna", "suus", "suzan", "susan", "sanne", "suzanne", "suze", "sanna", "susie", "zus"),
    ("francisca", "cisca", "sjaan", "fien", "francien", "frans", "franka"),
    ("magdalena", "lena", "leni", "madelon", "magda", "lenie", "madeleine"),
    ("gerarda", "gerda", "gerrie", "ger", "gerdien", "dina"),
    ("aleida", "alie", "leida", "ali", "aly", "lida"),
    ("emma", "em", "emmy", "emmie", "ems"),
    ("julia", "juul", "jules", "julie", "juliet", "jula"),
    ("julius", "juul", "jules", "jul"),
    ("samuel", "sam", "sem", "sammy", "muel"),
    ("sophia", "sophie", "fie", "soof", "sofie", "sofia", "fiene"),
    ("isabella", "isa", "bella", "isabel", "bel", "belle", "sabella"),
    ("charlotte", "lotte", "lot", "charlie", "lotje", "charly", "lottie"),
    ("elizabeth", "lies", "els", "liz", "beth", "betty", "elisa"),
    ("jozef", "jos", "joep", "sjef", "joost"),
    ("lucas", "luuk", "luc", "luke", "lukas", "luca"),
    ("jeroen", "jeroentje", "roen"),
    ("maximiliaan", "max", "maxim", "maxime", "maximilian"),
    ("fredericus", "frits", "freek", "fred"),
    ("augustinus", "guus", "stijn", "gust", "augustijn", "tinus"),
    ("augustus", "guus", "gust", "gus"),
    ("wouter", "wout", "wolter"),
    ("jeanette", "jeannette", "jet", "jetje", "netty"),
    ("henriette", "jet", "jette", "henny", "jetty", "riet"),
    ("hendrina", "riet", "rina", "dina", "ina"),
    ("jacomina", "mina", "mien", "co", "cootje"),
    ("wilma", "wil", "wilmy", "wim"),
    ("marcel", "marc", "marco", "cel"),
    ("marcus", "marc", "mark", "marco", "max"),
    ("tobias", "tobi", "tobie", "tob"),
    ("victor", "vic", "viktor"),
    ("rudolf", "ruud", "rudi", "rudy", "dolf", "roel"),
    ("roeland", "roel", "roland", "rol"),
    ("edward", "ed", "eddy", "edwin", "ward", "eduard", "ted"),
    ("emanuel", "manuel", "manu", "immanuel", "mannes"),
    ("gregorius", "gregor", "gregory", "goris", "joris"),
    ("theodorus", "theo", "dorus", "ted"),
    ("theodora", "dora", "thea", "doortje", "dorie"),
    ("georgius", "joris", "george", "sjors", "jurriaan", "jurre", "georg", "juriaan"),
)


@lru_cache(maxsize=1)
def _index() -> dict[str, frozenset[int]]:
    """Return, for every known name, the groups it belongs to."""
    index: dict[str, set[int]] = {}
    for number, group in enumerate(_GROUPS):
        for name in group:
            index.setdefault(name, set()).add(number)
    return {name: frozenset(groups) for name, groups in index.items()}


def canonical_given_name(name: str) -> str:
    """Return the formal name a folded given name stands for ("hans" -> "johannes"), or itself."""
    groups = _index().get(name)
    if not groups:
        return name
    return _GROUPS[min(groups)][0]


def are_name_variants(a: str, b: str) -> bool:
    """Return True when two folded given names are known forms of one name (Hans, Johannes)."""
    if a == b:
        return True
    index = _index()
    return bool(index.get(a, frozenset()) & index.get(b, frozenset()))


def name_groups(name: str) -> frozenset[int]:
    """Return the numbers of the groups a folded given name belongs to (empty when unknown)."""
    return _index().get(name, frozenset())


def group_names(group: int) -> tuple[str, ...]:
    """Return the names of one group, formal name first."""
    return _GROUPS[group]
