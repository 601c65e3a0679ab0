"""The paragraph analysed when no text is given.

Written for this project. It has persons, places, organizations and miscellaneous entities
(nationalities, an event, a prize), several multi-word entities, and it ends on an entity,
the case that a naive decoder drops.
"""

DEFAULT_TEXT = (
    "In the spring of 1891, Maria Skłodowska left Warsaw for Paris, where she enrolled at the "
    "University of Paris and later married the French physicist Pierre Curie. Their work on "
    "radioactivity earned them the Nobel Prize in Physics, shared with Henri Becquerel, and the "
    "Royal Swedish Academy of Sciences honoured her again in 1911. A century later, the "
    "International Atomic Energy Agency in Vienna named a fellowship after her, and Polish and "
    "French students still visit the Maria Skłodowska-Curie Museum before the Warsaw Marathon. "
    "Ask a guide from Kraków why, and Anna Nowak will tell you the story began on the banks of the "
    "Vistula"
)
