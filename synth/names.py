"""The synthetic generator's own list of Dutch given names and the forms people go by (pure data).

Written for the generator (``--noise v2``) from general knowledge of Dutch naming, apart from the
resolver's list in ``identity/nicknames.py``, which this module must not import: a drop made from
the resolver's own list measures the resolver against itself. Official (doop)names come with the
roepnamen, short forms, diminutives and regional forms people use instead (Brabant "Twan" and
"Sus", Limburg "Sjra" and "Sjang", Zeeland "Knelis", Frisian and Groningen "-tje" and "-ke" forms);
the first form listed is the most usual one, and the generator picks earlier forms more often.
Names of Moroccan and Turkish origin come with the transliterations they are written in.

Overlap with the resolver's list, measured by ``tests/unit/test_synth_names.py`` (which fails when
more than two thirds become known): of the 587 (name, form) pairs below, the resolver knows 318
(54%): 315 of the 527 pairs of formal names, 3 of the 60 transliterations. It knows nothing of
"Knelis", "Twan", "Sjang", "Han", "Sus", "Hillegonda" / "Gonnie", of half the -je, -tje and -ke
diminutives ("Jantje", "Marietje", "Pleuntje") or of most transliterations. The v1 generator's
list, by contrast, shared 116 of its 139 pairs (83%).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

__all__ = ["FORMAL_MALE", "FORMAL_FEMALE", "ORIGIN_VARIANTS"]

FORMAL_MALE: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "Johannes": ("Jan", "Hans", "Johan", "Joop", "Han", "Hannes", "Jo", "Jannes", "Sjang", "Jantje"),
    "Cornelis": ("Kees", "Cor", "Cees", "Corné", "Neel", "Knelis"),
    "Pieter": ("Piet", "Peter", "Pier", "Pit", "Pietje", "Peer"),
    "Petrus": ("Piet", "Peter", "Peer", "Pierre", "Pit"),
    "Willem": ("Wim", "Pim", "Wil", "Willy", "Wiel", "Wimpie", "Willie"),
    "Wilhelmus": ("Wim", "Willem", "Wil", "Wiel", "Helmus", "Pim"),
    "Hendrik": ("Henk", "Rik", "Hein", "Henny", "Hennie", "Harrie", "Driek", "Drikus"),
    "Henricus": ("Henk", "Harrie", "Hein", "Rikus", "Harry"),
    "Jacobus": ("Jaap", "Koos", "Sjaak", "Ko", "Kobus", "Jaco", "Jacques", "Sjaakie"),
    "Jacob": ("Jaap", "Koos", "Ko", "Jaco"),
    "Nicolaas": ("Klaas", "Niek", "Nico", "Nick", "Claes"),
    "Alexander": ("Sander", "Alex", "Lex", "Xander", "Sandor"),
    "Sebastiaan": ("Bas", "Sebas", "Bastiaan", "Bastian"),
    "Gerardus": ("Gerard", "Gert", "Gerrit", "Ger", "Geert", "Sjra", "Gerrie", "Gé"),
    "Theodorus": ("Theo", "Dorus", "Ruud", "Door"),
    "Antonius": ("Toon", "Ton", "Anton", "Teun", "Twan", "Tonnie", "Antoon", "Toine"),
    "Adrianus": ("Arie", "Ad", "Aad", "Adrie", "Adriaan", "Janus", "Jaan", "Arjan"),
    "Franciscus": ("Frans", "Frank", "Cis", "Sus", "Frenk"),
    "Josephus": ("Jos", "Joep", "Sjef", "Jef", "Joop", "Zef", "Jo", "Jozef"),
    "Lambertus": ("Bert", "Lambert", "Lammert", "Bertus", "Lam"),
    "Albertus": ("Bert", "Ab", "Albert", "Appie", "Bertus", "Abe"),
    "Hermanus": ("Herman", "Manus", "Harm", "Mannes", "Herm"),
    "Gijsbertus": ("Gijs", "Gijsbert", "Bert"),
    "Bernardus": ("Ben", "Bernard", "Bernd", "Nard", "Benno", "Barend", "Berrie", "Bennie"),
    "Leonardus": ("Leo", "Leon", "Leen", "Leendert", "Nard", "Lenny", "Naad"),
    "Marinus": ("Rinus", "Marien", "Rien", "Mari", "Rini"),
    "Martinus": ("Martin", "Tinus", "Maarten", "Martijn", "Tijn", "Mart"),
    "Frederik": ("Frits", "Freek", "Fred", "Freddy", "Rik", "Fré"),
    "Matthijs": ("Thijs", "Ties", "Tijs", "Mats", "Thies"),
    "Matheus": ("Tjeu", "Thei", "Mathieu", "Mattie"),
    "Bartholomeus": ("Bart", "Mees", "Meeuwis", "Bartel", "Tolly"),
    "Christiaan": ("Chris", "Stijn", "Krijn", "Kris", "Christian"),
    "Robertus": ("Rob", "Robert", "Bob", "Robbie", "Robbert", "Bert"),
    "Arnoldus": ("Arnold", "Noud", "Nol", "Arno", "Arnout", "Aart"),
    "Everardus": ("Evert", "Eef", "Ever"),
    "Dirk": ("Dick", "Dik", "Derk"),
    "Maximiliaan": ("Max", "Maxim"),
    "Hubertus": ("Huub", "Huib", "Hub", "Bert", "Hubert"),
    "Laurentius": ("Lau", "Laurens", "Lars", "Rens", "Lauw", "Louw"),
    "Ludovicus": ("Louis", "Lodewijk", "Ludo", "Loek", "Lowie", "Lou"),
    "Aloysius": ("Loek", "Lois", "Wies", "Alo", "Louis"),
    "Casparus": ("Cas", "Kas", "Kasper", "Jasper", "Caspar"),
    "Egbertus": ("Egbert", "Bert", "Eppie", "Ep"),
    "Stephanus": ("Stefan", "Steef", "Steven", "Stef", "Fanus", "Stephan"),
    "Augustinus": ("Guus", "Gust", "Stijn", "Tinus", "Guust"),
    "Engelbertus": ("Engel", "Bert", "Bertus"),
    "Abraham": ("Bram", "Braam", "Abe", "Ab", "Bramme"),
    "Isaac": ("Sjaak", "Ies", "Isaak", "Izak"),
})

FORMAL_FEMALE: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "Elisabeth": ("Lies", "Els", "Bep", "Liesbeth", "Betty", "Ilse", "Lisa", "Elsje", "Bets",
                  "Lisette", "Liesje"),
    "Maria": ("Mieke", "Ria", "Marieke", "Mia", "Marie", "Mies", "Miep", "Rie", "Marja", "Maja",
              "Marietje", "Mariëtte"),
    "Geertruida": ("Truus", "Trudy", "Geertje", "Trui", "Truida", "Gerda", "Trudie", "Gertie"),
    "Catharina": ("Karin", "Tineke", "Toos", "Ina", "Rina", "Trijntje", "Cato", "Katrien", "Kaat",
                  "Riny", "Ineke", "Tiny"),
    "Wilhelmina": ("Mien", "Willy", "Wilma", "Mina", "Helma", "Willemien", "Mientje", "Miny", "Wil"),
    "Johanna": ("Anneke", "Jo", "Hanneke", "Joke", "Hanna", "Hannie", "Jannie", "Janny", "Hanny",
                "Jans", "Jopie"),
    "Cornelia": ("Corrie", "Nel", "Nelleke", "Neeltje", "Conny", "Cora", "Cor", "Nellie", "Lia"),
    "Hendrika": ("Riek", "Rika", "Henny", "Hennie", "Drika", "Riekje", "Ria", "Dika"),
    "Jacoba": ("Coby", "Co", "Coba", "Cobie", "Kobie", "Jacqueline", "Jaqueline", "Coosje"),
    "Petronella": ("Nel", "Nelly", "Petra", "Ella", "Pietje", "Nella"),
    "Anna": ("Anneke", "Ans", "Annie", "Anne", "Anja", "Anke", "Ank", "Annet", "Antje", "Ankie",
             "Annemie"),
    "Margaretha": ("Greet", "Margriet", "Margot", "Grietje", "Marga", "Greta", "Meta", "Margreet",
                   "Rita", "Griet", "Gré", "Maggie"),
    "Alida": ("Alie", "Lida", "Aly", "Lidy", "Aaltje", "Ali"),
    "Gerarda": ("Gerda", "Gerrie", "Gerdien", "Ger", "Gerry"),
    "Theodora": ("Dora", "Thea", "Doortje", "Dorie", "Door", "Teddy"),
    "Antonia": ("Toni", "Toos", "Tonny", "Antoinette", "Tonnie", "Teuntje", "Toosje"),
    "Francisca": ("Cisca", "Francien", "Sjaan", "Ciska", "Fransje", "Francis", "Fien"),
    "Christina": ("Stien", "Tineke", "Christine", "Tina", "Kirsten", "Stientje", "Ineke", "Tiny",
                  "Chris"),
    "Josephina": ("Fien", "José", "Josje", "Fientje", "Josien", "Josephine", "Joke", "Jos",
                  "Fieneke"),
    "Helena": ("Lenie", "Heleen", "Lena", "Leny", "Helen", "Ellen", "Elly", "Leen", "Leentje",
               "Hélène"),
    "Susanna": ("Suus", "Sanne", "Suzanne", "Suzan", "Susan", "Zus", "Suze", "Suusje", "Sanna"),
    "Alexandra": ("Sandra", "Lex", "Alex", "Xandra", "Sacha", "Lexie"),
    "Adriana": ("Adrie", "Jeanne", "Jaantje", "Janny", "Ria", "Adri", "Sjaan", "Ariane"),
    "Everdina": ("Dini", "Dina", "Diny", "Eef", "Evie", "Dientje"),
    "Magdalena": ("Magda", "Lena", "Leni", "Madelon", "Madeleine", "Lenie", "Leentje", "Marleen"),
    "Hermina": ("Mien", "Herma", "Hermien", "Minie", "Mina", "Mientje"),
    "Jacomina": ("Mina", "Mien", "Co", "Coosje", "Mientje", "Jacqueline"),
    "Bernardina": ("Dina", "Ina", "Dien", "Bernadette", "Berdien", "Dientje"),
    "Louisa": ("Loes", "Lous", "Wies", "Wiesje", "Louise", "Lou", "Isa"),
    "Theresia": ("Trees", "Resie", "Thea", "Tessa", "Treesje", "Tess"),
    "Dorothea": ("Dorien", "Thea", "Doortje", "Dora", "Door", "Doris"),
    "Apollonia": ("Pleun", "Loni", "Polly", "Pleuntje"),
    "Jozina": ("Sien", "Sientje", "Jo", "Josien"),
    "Hillegonda": ("Hilde", "Gonnie", "Hil", "Gonda", "Hilly"),
})

# Names of Moroccan and Turkish origin and the spellings they are written in (not formal names:
# the generator uses them as spelling variants, never as an official name for a Dutch-born person).
ORIGIN_VARIANTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "Mohamed": ("Mohammed", "Muhammed", "Mohammad", "Mohamad", "Mo"),
    "Youssef": ("Yousef", "Youssouf", "Yusuf", "Joesoef", "Yosef"),
    "Ahmed": ("Ahmet", "Achmed", "Ahmad"),
    "Mustafa": ("Mustapha", "Moestafa", "Mostafa"),
    "Rachid": ("Rashid", "Rachied", "Rasjied"),
    "Karim": ("Kareem", "Kariem"),
    "Said": ("Saïd", "Saaid", "Sayed"),
    "Hasan": ("Hassan", "Hasaan"),
    "Yusuf": ("Youssef", "Joesoef", "Yousuf"),
    "Mehmet": ("Mehmed", "Memet", "Memo"),
    "Fatima": ("Fatma", "Fadma", "Fatimah", "Faatima"),
    "Khadija": ("Khadidja", "Kadija", "Hadija", "Khadijah"),
    "Naima": ("Naïma", "Naeima"),
    "Samira": ("Sameera", "Samiera"),
    "Latifa": ("Latiefa", "Latifah"),
    "Nadia": ("Nadja", "Nadiya"),
    "Imane": ("Iman", "Imaan"),
    "Hanane": ("Hanan", "Hanaan"),
    "Ayşe": ("Ayse", "Aise"),
    "Hatice": ("Hatidje", "Khadija"),
    "Zeynep": ("Zeinab", "Zainab", "Zeynab"),
    "Fatma": ("Fatima",),
})
