"""Words the redaction must tell apart from names: what parents say about their child's needs,
the services around them and their schooling, and the kinds of school a school's name ends in.

Why a list of its own: a case study is worth having only for what it says about the child's
needs. The redaction treats a capitalised word it does not know as a name, which turned
"Dyslexia", "Speech and Language Therapy" or "Hillside High" into "[NAME]" (and then removed
"high" and "speech" everywhere). These words are never names; the kinds of school are what
makes "Larkrise Primary" a school rather than a person.
"""

from __future__ import annotations

from functools import lru_cache


def words(text: str) -> frozenset[str]:
    """A word list written as text, one or more a line."""
    return frozenset(text.split())


# Needs, conditions, therapies, professionals, plans and processes, school life: kept as said.
NEEDS_WORDS = words(
    """
    autism autistic asd asc asperger aspergers adhd add pda odd ocd dyslexia dyslexic dyspraxia
    dyspraxic dyscalculia dysgraphia spld mld sld pmld slcn semh sensory processing spd
    spectrum disorder disorders condition conditions syndrome down downs tourette tourettes
    epilepsy epileptic cerebral palsy global developmental delay learning disability
    disabilities disabled difficulty difficulties anxiety depression selective mutism
    hearing visual impairment deaf blind physical mental wellbeing emotional behavioural
    social communication interaction cognition speech language therapy therapies therapist
    therapists occupational physiotherapy physio physiotherapist paediatrician paediatrics
    paediatric consultant neurologist psychologist psychology psychiatrist educational
    education health care plan plans ehc ehcna ehcp ehcps iep pep isp statement statutory
    assessment assessments needs need special provision section annual review reviews draft
    final appeal appeals tribunal sendist mediation exclusion exclusions excluded exclude
    suspension suspended suspensions permanent fixed term reduced timetable part-time
    attendance inclusion inclusive nurture pastoral support supported intervention
    interventions funding banding top-up panel local authority council county offer code
    practice act children families services service team worker workers officer manager
    lead early help portage respite short breaks carers allowance dla pip transport travel
    elective home ehe flexi schooling tuition mainstream specialist resourced base unit
    headteacher head deputy governors governor teacher teachers assistant ta tas lsa
    senco sendco sen send ofsted camhs cahms nhs gp ot salt ep reception nursery infant
    infants junior juniors primary secondary sixth form college academy school schools
    high grammar middle upper lower prep preparatory pupil pupils referral pru kindergarten
    montessori catholic church england methodist federation trust community free
    independent state village maths math english science reading writing spelling phonics
    literacy numeracy homework gcse gcses sats ks1 ks2 ks3 ks4 key stage st saint
    """
)

# The last word of a school's name: "Larkrise Primary", "Oakfield Academy", "Hillside High".
SCHOOL_KINDS = (
    r"(?:Primary|Infants?|Juniors?|Secondary|High|Grammar|Middle|Academy|College|Nursery|"
    r"Pre-?[Ss]chool|Playgroup|Kindergarten|Montessori|Prep|Preparatory|School|"
    r"Sixth Form|Pupil Referral Unit|PRU|UTC|Federation|Learning Centre|Children's Centre)"
)
SCHOOL_KINDS_SPOKEN = (
    r"(?:primary|infants?|juniors?|secondary|high|grammar|academy|college|nursery|"
    r"pre-?school|playgroup|school)"
)
# "St Mary's C of E Junior School": the church a school belongs to sits before its kind.
SCHOOL_CHURCH = (
    r"(?:C\.?\s?of\s?E\.?|CofE|C\.?E\.?|R\.?C\.?|Catholic|Roman Catholic|Church of England|"
    r"Methodist|Church|Community|Free|Special|Specialist|Infant and Junior|Junior and Infant)"
)
# Words before a kind of school that say what sort it is, not which one it is.
SCHOOL_GENERIC = words(
    """
    the a an my our his her their this that these local nearest current
    previous next another other same different whole special specialist mainstream
    independent state community free village county church catholic roman methodist
    primary secondary junior juniors infant infants middle upper lower high grammar sixth
    form nursery prep preparatory academy college school pupil referral unit c of e ce rc
    cofe and autism autistic asd adhd send sen sensory language hearing visual yesterday
    today then when since now last at to from in after before because while so but
    """
)
NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty)"
)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every dictionary word (WordNet's nouns, verbs, adjectives and adverbs, as shipped in
    spacy-lookups-data): a lower-case word outside it in a transcript is likely a name."""
    from pathlib import Path

    import srsly
    from spacy_lookups_data import en

    path = Path(en["lemma_index"])
    gz = path.with_name(path.name + ".gz")
    data = srsly.read_gzip_json(gz) if gz.exists() else srsly.read_json(path)
    return frozenset(str(w).lower() for words in dict(data).values() for w in words)
