"""Reference data for the synthetic population: names, nicknames, places and vocabularies.

Lists are ordered from most to least common; `zipf_weights` turns a rank into a weight so that
name collisions between different people are common, as they are in real bulk data. Every
string here must be encodable as Latin-1 (company officers are delivered in Latin-1).
"""

from __future__ import annotations

import numpy as np

# fmt: off
MALE_GIVEN: tuple[str, ...] = (
    "DAVID", "JOHN", "MICHAEL", "PAUL", "ANDREW", "JAMES", "MOHAMMED", "PETER", "ROBERT", "MARK",
    "RICHARD", "STEPHEN", "CHRISTOPHER", "WILLIAM", "THOMAS", "DANIEL", "ANTHONY", "MATTHEW",
    "JOSEPH", "GARY", "IAN", "SIMON", "KEVIN", "JASON", "NEIL", "ALAN", "BRIAN", "GEORGE",
    "EDWARD", "CHARLES", "STEVEN", "MUHAMMAD", "ALI", "JACK", "HARRY", "OLIVER", "SAMUEL",
    "BENJAMIN", "ALEXANDER", "NICHOLAS", "JONATHAN", "PATRICK", "TIMOTHY", "KENNETH", "RAYMOND",
    "RONALD", "DONALD", "GEOFFREY", "TERENCE", "FREDERICK", "HENRY", "LEONARD", "GERALD",
    "DOUGLAS", "CRAIG", "LEE", "SCOTT", "LIAM", "RYAN", "ADAM", "LUKE", "CONNOR", "NATHAN",
    "AARON", "CALLUM", "KIERAN", "SEAN", "DECLAN", "RAJ", "SANJAY", "ARJUN", "HASSAN", "IBRAHIM",
    "OMAR", "YUSUF", "BILAL", "TARIQ", "IMRAN", "ASIF", "PIOTR", "TOMASZ", "KRZYSZTOF", "ANDREI",
    "MIHAI", "CHINEDU", "OLUWASEUN", "EMEKA", "JOSÉ", "ANDRÉ", "FRANÇOIS", "NOËL", "JOÃO", "BJÖRN",
    "SØREN", "RENÉ", "LUCA", "MARCO", "HANS", "JÜRGEN", "DEREK", "NIGEL",
)

FEMALE_GIVEN: tuple[str, ...] = (
    "SARAH", "SUSAN", "ELIZABETH", "MARGARET", "EMMA", "HELEN", "JULIE", "KAREN", "MARY", "CLAIRE",
    "LISA", "NICOLA", "JOANNE", "RACHEL", "LAURA", "CATHERINE", "AMANDA", "JANE", "PATRICIA",
    "LINDA", "JENNIFER", "REBECCA", "SAMANTHA", "VICTORIA", "JESSICA", "CHARLOTTE", "EMILY",
    "SOPHIE", "HANNAH", "AMY", "GEMMA", "KATHERINE", "DEBORAH", "ANNE", "ALISON", "FATIMA",
    "AISHA", "AMINA", "MARIAM", "ZAINAB", "PRIYA", "SUNITA", "ANITA", "DOROTHY", "JOAN", "BARBARA",
    "CHRISTINE", "JACQUELINE", "JOSEPHINE", "KIMBERLEY", "NATALIE", "ELEANOR", "ABIGAIL",
    "ALEXANDRA", "OLIVIA", "AMELIA", "ISLA", "GRACE", "ELLA", "LUCY", "CHLOE", "MEGAN", "HOLLY",
    "BETHANY", "JADE", "STACEY", "KELLY", "DONNA", "TRACEY", "SHARON", "DAWN", "WENDY", "BRENDA",
    "SHEILA", "AGNIESZKA", "KATARZYNA", "ANNA", "MARIA", "ELENA", "IOANA", "NGOZI", "CHIAMAKA",
    "ADAEZE", "ZOË", "RENÉE", "CHLOË", "JOSÉPHINE", "NOÉMIE", "INÉS", "MÓNICA", "SIÂN", "ÁINE",
    "SINÉAD", "SIOBHAN", "NIAMH", "ROISIN",
)

SURNAMES: tuple[str, ...] = (
    "SMITH", "JONES", "WILLIAMS", "TAYLOR", "BROWN", "DAVIES", "EVANS", "WILSON", "THOMAS",
    "JOHNSON", "ROBERTS", "ROBINSON", "THOMPSON", "WRIGHT", "WALKER", "WHITE", "EDWARDS", "HUGHES",
    "GREEN", "HALL", "LEWIS", "HARRIS", "CLARKE", "PATEL", "KHAN", "JACKSON", "WOOD", "TURNER",
    "MARTIN", "COOPER", "HILL", "WARD", "MORRIS", "MOORE", "CLARK", "LEE", "KING", "BAKER",
    "HARRISON", "MORGAN", "ALLEN", "JAMES", "SCOTT", "PHILLIPS", "WATSON", "DAVIS", "PARKER",
    "PRICE", "BENNETT", "YOUNG", "GRIFFITHS", "MITCHELL", "KELLY", "COOK", "CARTER", "RICHARDSON",
    "BAILEY", "COLLINS", "BELL", "SHAW", "MURPHY", "MILLER", "COX", "RICHARDS", "MARSHALL",
    "ANDERSON", "SIMPSON", "ELLIS", "ADAMS", "SINGH", "BEGUM", "WILKINSON", "FOSTER", "CHAPMAN",
    "POWELL", "WEBB", "ROGERS", "GRAY", "MASON", "ALI", "HUNT", "HUSSAIN", "CAMPBELL", "MATTHEWS",
    "OWEN", "PALMER", "HOLMES", "MILLS", "BARNES", "KNIGHT", "LLOYD", "BUTLER", "RUSSELL",
    "BARKER", "FISHER", "STEVENS", "JENKINS", "MURRAY", "DIXON", "HARVEY", "GRAHAM", "PEARSON",
    "AHMED", "FLETCHER", "WALSH", "KAUR", "GIBSON", "HOWARD", "ANDREWS", "STEWART", "ELLIOTT",
    "REYNOLDS", "SAUNDERS", "PAYNE", "FOX", "FORD", "PEARCE", "DAY", "BROOKS", "WEST", "LAWRENCE",
    "COLE", "ATKINSON", "BRADLEY", "SPENCER", "GILL", "DAWSON", "BALL", "BURTON", "O'BRIEN",
    "WATTS", "ROSE", "BOOTH", "PERRY", "RYAN", "GRANT", "WELLS", "ARMSTRONG", "FRANCIS", "REES",
    "HAYES", "HART", "HUDSON", "NEWMAN", "BARRETT", "WEBSTER", "HUNTER", "GREGORY", "CARR", "LOWE",
    "PAGE", "MARSH", "RILEY", "DUNN", "WOODS", "PARSONS", "BERRY", "STONE", "REID", "HOLLAND",
    "HAWKINS", "HARDING", "PORTER", "ROBERTSON", "NEWTON", "OLIVER", "REED", "KENNEDY",
    "WILLIAMSON", "BIRD", "GARDNER", "SHARP", "LAMBERT", "MAY", "MCDONALD", "O'CONNOR",
    "MACDONALD", "MAHMOOD", "IQBAL", "RAHMAN", "AKHTAR", "SHAH", "MISTRY", "SHARMA", "GUPTA",
    "CHAUHAN", "NOWAK", "KOWALSKI", "LEWANDOWSKI", "KAMINSKI", "POPESCU", "IONESCU", "OKAFOR",
    "ADEYEMI", "OKONKWO", "MENSAH", "BOATENG", "NGUYEN", "CHEN", "WANG", "MÜLLER", "GONZÁLEZ",
    "GARCÍA", "LÓPEZ", "FERNÁNDEZ", "NÚÑEZ", "PÉREZ", "SCHRÖDER", "DUBOIS", "D'ARCY", "BRONTË",
    "ÅBERG", "ROSSI", "ESPOSITO", "BIANCHI", "SILVA", "COSTA", "DOHERTY", "GALLAGHER",
    "MCLAUGHLIN", "QUINN", "BYRNE", "FITZGERALD", "MCCARTHY", "NOLAN", "PRESTON", "SUTTON",
    "FARMER", "HOPKINS", "JOHNSTON", "BURNS", "COLEMAN", "HOLT", "NASH",
)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "ROBERT": ("BOB", "ROB", "BOBBY"),
    "WILLIAM": ("BILL", "WILL", "BILLY"),
    "ELIZABETH": ("LIZ", "BETH", "LIZZIE"),
    "MARGARET": ("MAGGIE", "PEGGY", "MEG"),
    "JAMES": ("JIM", "JAMIE", "JIMMY"),
    "MICHAEL": ("MIKE", "MICK"),
    "CATHERINE": ("KATE", "CATH", "CATHY"),
    "KATHERINE": ("KATE", "KATIE", "KATHY"),
    "RICHARD": ("RICK", "RICHIE", "DICK"),
    "THOMAS": ("TOM", "TOMMY"),
    "ANTHONY": ("TONY",),
    "CHRISTOPHER": ("CHRIS",),
    "DANIEL": ("DAN", "DANNY"),
    "DAVID": ("DAVE",),
    "JOSEPH": ("JOE",),
    "MATTHEW": ("MATT",),
    "NICHOLAS": ("NICK",),
    "STEPHEN": ("STEVE",),
    "STEVEN": ("STEVE",),
    "SAMUEL": ("SAM",),
    "BENJAMIN": ("BEN",),
    "ALEXANDER": ("ALEX",),
    "EDWARD": ("ED", "TED", "EDDIE"),
    "JONATHAN": ("JON",),
    "PATRICK": ("PAT", "PADDY"),
    "PETER": ("PETE",),
    "ANDREW": ("ANDY", "DREW"),
    "TIMOTHY": ("TIM",),
    "KENNETH": ("KEN",),
    "RAYMOND": ("RAY",),
    "RONALD": ("RON", "RONNIE"),
    "DONALD": ("DON",),
    "GEOFFREY": ("GEOFF",),
    "TERENCE": ("TERRY",),
    "FREDERICK": ("FRED", "FREDDIE"),
    "HENRY": ("HARRY", "HAL"),
    "LEONARD": ("LEN",),
    "GERALD": ("GERRY",),
    "DOUGLAS": ("DOUG",),
    "CHARLES": ("CHARLIE", "CHAS"),
    "JOHN": ("JACK", "JOHNNY"),
    "MOHAMMED": ("MO",),
    "MUHAMMAD": ("MO",),
    "JENNIFER": ("JEN", "JENNY"),
    "REBECCA": ("BECKY", "BEX"),
    "SAMANTHA": ("SAM", "SAMMY"),
    "VICTORIA": ("VICKY", "TORI"),
    "JESSICA": ("JESS",),
    "ABIGAIL": ("ABBY",),
    "ALEXANDRA": ("ALEX", "SASHA"),
    "CHARLOTTE": ("CHARLIE", "LOTTIE"),
    "DEBORAH": ("DEBBIE", "DEB"),
    "SUSAN": ("SUE", "SUZY"),
    "PATRICIA": ("PAT", "TRISH"),
    "AMANDA": ("MANDY",),
    "ELEANOR": ("ELLIE", "NELL"),
    "HELEN": ("NELL",),
    "JACQUELINE": ("JACKIE",),
    "JOSEPHINE": ("JO", "JOSIE"),
    "JOANNE": ("JO",),
    "KIMBERLEY": ("KIM",),
    "NATALIE": ("NAT",),
    "DOROTHY": ("DOT", "DOTTIE"),
    "CHRISTINE": ("CHRIS", "TINA"),
    "BARBARA": ("BABS",),
    "SARAH": ("SALLY",),
    "MARY": ("MOLLY", "POLLY"),
    "NICOLA": ("NIKKI",),
}

# Alternative spellings a partner agency may hold as an alias.
ALT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "MOHAMMED": ("MUHAMMAD", "MOHAMMAD", "MOHAMED"),
    "MUHAMMAD": ("MOHAMMED", "MOHAMMAD"),
    "STEPHEN": ("STEVEN",),
    "STEVEN": ("STEPHEN",),
    "CATHERINE": ("KATHERINE", "CATHRYN"),
    "KATHERINE": ("CATHERINE", "KATHRYN"),
    "SARAH": ("SARA",),
    "JON": ("JOHN",),
    "JONATHAN": ("JONATHON",),
    "ZOË": ("ZOE",),
    "CHLOË": ("CHLOE",),
    "JOSÉ": ("JOSE",),
    "ALI": ("ALY",),
    "SEAN": ("SHAUN", "SHAWN"),
    "SIOBHAN": ("SHIVAUN",),
    "NIAMH": ("NEVE",),
    "GEOFFREY": ("JEFFREY",),
    "PHILIP": ("PHILLIP",),
    "LEE": ("LEIGH",),
    "TRACEY": ("TRACY",),
    "STACEY": ("STACY",),
}

STREETS: tuple[str, ...] = (
    "High", "Station", "Church", "Park", "Victoria", "Green", "Manor", "Kings", "Queens", "Mill",
    "New", "School", "North", "South", "West", "East", "London", "Albert", "York", "Grange",
    "Springfield", "Chapel", "Windsor", "Highfield", "Broadway", "Alexandra", "George", "Elm",
    "Oak", "Beech", "Willow", "Cedar", "Ash", "Meadow", "Orchard", "Riverside", "Mount", "Stanley",
    "Clarence", "Denmark", "Wellington", "Nelson", "Cromwell", "Beaconsfield", "Derwent",
    "Pennine", "Holly", "Hawthorn", "Sycamore", "Chestnut", "Market", "Castle", "Bridge", "Water",
    "Hill", "Moor", "Field", "Well", "Abbey", "Priory",
)

STREET_TYPES: tuple[str, ...] = (
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Grove", "Crescent", "Place",
    "Gardens", "Terrace",
)

STREET_ABBREVIATIONS: dict[str, str] = {
    "Street": "St",
    "Road": "Rd",
    "Lane": "Ln",
    "Avenue": "Ave",
    "Close": "Cl",
    "Drive": "Dr",
    "Crescent": "Cres",
    "Place": "Pl",
    "Gardens": "Gdns",
    "Terrace": "Ter",
    "Grove": "Gr",
    "Way": "Way",
}

# (town, postcode area, first district, last district, dialling code, relative weight)
TOWNS: tuple[tuple[str, str, int, int, str, float], ...] = (
    ("London", "E", 1, 18, "020", 2.4),
    ("London", "N", 1, 22, "020", 2.2),
    ("London", "SE", 1, 28, "020", 2.6),
    ("London", "SW", 1, 20, "020", 2.2),
    ("London", "W", 1, 14, "020", 1.6),
    ("London", "NW", 1, 11, "020", 1.4),
    ("Birmingham", "B", 1, 48, "0121", 3.0),
    ("Leeds", "LS", 1, 29, "0113", 2.0),
    ("Glasgow", "G", 1, 34, "0141", 1.7),
    ("Sheffield", "S", 1, 14, "0114", 1.5),
    ("Manchester", "M", 1, 46, "0161", 1.6),
    ("Bradford", "BD", 1, 15, "01274", 1.4),
    ("Liverpool", "L", 1, 38, "0151", 1.3),
    ("Edinburgh", "EH", 1, 17, "0131", 1.3),
    ("Bristol", "BS", 1, 16, "0117", 1.2),
    ("Cardiff", "CF", 3, 24, "029", 0.9),
    ("Leicester", "LE", 1, 5, "0116", 0.9),
    ("Coventry", "CV", 1, 6, "024", 0.9),
    ("Nottingham", "NG", 1, 11, "0115", 0.8),
    ("Newcastle upon Tyne", "NE", 1, 15, "0191", 0.8),
    ("Belfast", "BT", 1, 17, "028", 0.8),
    ("Southampton", "SO", 14, 19, "023", 0.6),
    ("Brighton", "BN", 1, 3, "01273", 0.6),
    ("Plymouth", "PL", 1, 9, "01752", 0.6),
    ("Reading", "RG", 1, 6, "0118", 0.5),
    ("Hull", "HU", 1, 9, "01482", 0.6),
    ("Norwich", "NR", 1, 7, "01603", 0.4),
    ("Oxford", "OX", 1, 4, "01865", 0.4),
    ("Cambridge", "CB", 1, 5, "01223", 0.4),
    ("York", "YO", 10, 32, "01904", 0.4),
    ("Aberdeen", "AB", 10, 25, "01224", 0.5),
    ("Swansea", "SA", 1, 7, "01792", 0.5),
    ("Derby", "DE", 1, 24, "01332", 0.6),
    ("Stoke-on-Trent", "ST", 1, 6, "01782", 0.6),
    ("Wolverhampton", "WV", 1, 14, "01902", 0.6),
    ("Luton", "LU", 1, 4, "01582", 0.5),
    ("Milton Keynes", "MK", 1, 19, "01908", 0.5),
    ("Bolton", "BL", 1, 7, "01204", 0.5),
)

# Letters allowed in the inward code of a UK postcode (CIKMOV are never used).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

NATIONALITIES: tuple[tuple[str, float], ...] = (
    ("GBR", 0.86),
    ("IRL", 0.02),
    ("POL", 0.025),
    ("IND", 0.02),
    ("PAK", 0.015),
    ("NGA", 0.01),
    ("ROU", 0.015),
    ("ESP", 0.01),
    ("FRA", 0.01),
    ("ITA", 0.01),
    ("DEU", 0.005),
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "hotmail.co.uk", "yahoo.co.uk", "outlook.com", "btinternet.com", "icloud.com",
    "live.co.uk", "sky.com",
)

CARRIERS: tuple[str, ...] = (
    "BA", "U2", "FR", "LS", "VS", "EI", "W6", "BY", "TK", "EK",
)
UK_AIRPORTS: tuple[str, ...] = (
    "LHR", "LGW", "MAN", "STN", "LTN", "BHX", "EDI", "GLA", "BRS", "NCL", "LBA", "LPL", "EMA",
    "BFS", "CWL",
)
FOREIGN_AIRPORTS: tuple[str, ...] = (
    "DUB", "AMS", "CDG", "MAD", "BCN", "AGP", "ALC", "PMI", "FAO", "LIS", "FCO", "MXP", "WAW",
    "KRK", "OTP", "IST", "DXB", "ISB", "LHE", "DEL", "BOM", "LOS", "ABV", "JFK", "BER", "FRA",
)
# Airports a non-British national is more likely to travel to.
HOME_AIRPORTS: dict[str, tuple[str, ...]] = {
    "IRL": ("DUB",),
    "POL": ("WAW", "KRK"),
    "IND": ("DEL", "BOM"),
    "PAK": ("ISB", "LHE"),
    "NGA": ("LOS", "ABV"),
    "ROU": ("OTP",),
    "ESP": ("MAD", "BCN"),
    "FRA": ("CDG",),
    "ITA": ("FCO", "MXP"),
    "DEU": ("BER", "FRA"),
}

MAKES: tuple[str, ...] = (
    "FORD", "VAUXHALL", "VOLKSWAGEN", "TOYOTA", "BMW", "AUDI", "MERCEDES-BENZ", "NISSAN",
    "PEUGEOT", "KIA", "HYUNDAI", "RENAULT", "SKODA", "HONDA", "LAND ROVER", "MINI", "TESLA",
    "CITROEN", "FIAT", "VOLVO",
)
COLOURS: tuple[str, ...] = (
    "BLACK", "WHITE", "SILVER", "GREY", "BLUE", "RED", "GREEN", "ORANGE", "YELLOW", "BROWN",
)
# Registration letters: current-format marks never use I, Q (and Z only in the random part).
REG_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
REG_RANDOM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"

COMPANY_WORDS: tuple[str, ...] = (
    "NORTHERN", "APEX", "SUMMIT", "PREMIER", "ROYAL", "UNITED", "GLOBAL", "CROWN", "EMPIRE",
    "PHOENIX", "ATLAS", "BRIDGE", "HARBOUR", "VALLEY", "OAK", "SILVER", "GOLDEN", "BLUE", "RED",
    "CITY", "METRO", "PRIME", "ALPHA", "NOVA", "ORION", "PENNINE", "THAMES", "MERSEY",
)
COMPANY_TRADES: tuple[str, ...] = (
    "CONSTRUCTION", "PROPERTIES", "LOGISTICS", "TRADING", "CONSULTING", "HOLDINGS", "INVESTMENTS",
    "MOTORS", "CATERING", "SECURITY", "CLEANING SERVICES", "IMPORTS", "TECHNOLOGY", "RECRUITMENT",
    "FREIGHT", "DEVELOPMENTS", "FOODS", "TRAVEL",
)
COMPANY_SUFFIXES: tuple[str, ...] = (
    "LIMITED", "LTD", "LTD.", "LIMITED", "PLC", "LLP",
)

WARNING_MARKERS: tuple[str, ...] = (
    "VIOLENCE", "DRUGS", "WEAPONS", "FIREARMS", "ESCAPE RISK", "SELF HARM", "MENTAL HEALTH",
    "CONTAGIOUS", "ALLEGES", "DRUG USE",
)

# TAC prefixes of common handsets (first eight digits of an IMEI).
IMEI_TACS: tuple[str, ...] = (
    "35332511", "35391110", "35467011", "35875306", "35290611", "86753405", "35209900", "35699911",
    "35161508", "35780512",
)

# fmt: on


def zipf_weights(n: int, *, exponent: float = 1.0, offset: float = 8.0) -> np.ndarray:
    """Normalised weights ~ 1/(rank+offset)^exponent: a long tail with a few very common names."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    w = 1.0 / (ranks + offset) ** exponent
    return w / w.sum()


# First digit(s) of the local number for dialling codes whose local numbers start in a fixed
# range (020 7/8..., 029 2..., 028 9..., 024 7..., 023 8...); others use 2-8.
LOCAL_FIRST_DIGITS: dict[str, str] = {"020": "78", "029": "2", "028": "9", "024": "7", "023": "8"}
DEFAULT_LOCAL_FIRST_DIGITS = "2345678"

# First digit after "07" of a UK mobile (076 is pagers, 070 personal numbering).
MOBILE_SECOND_DIGITS = "12345789"

HOUSEHOLD_SIZE_WEIGHTS: tuple[float, ...] = (0.29, 0.35, 0.16, 0.13, 0.07)
