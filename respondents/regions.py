"""The dashboard's regions: every ISO 3166-1 country in one of six, after the UN's M49 geoscheme.

North America is M49's Northern America; Latin America and the Caribbean is M49's region of that
name (Mexico, Central and South America, the Caribbean). Cyprus and Türkiye are in Asia, as in M49
(Western Asia); Antarctica and territories with no population belong to no region ("Other").
"""

from __future__ import annotations

NORTH_AMERICA = "North America"
LATIN_AMERICA = "Latin America and the Caribbean"
EUROPE = "Europe"
ASIA = "Asia"
AFRICA = "Africa"
OCEANIA = "Oceania"
OTHER = "Other"

REGIONS = (NORTH_AMERICA, LATIN_AMERICA, EUROPE, ASIA, AFRICA, OCEANIA, OTHER)

_MEMBERS = {
    NORTH_AMERICA: "BM CA GL PM US",
    LATIN_AMERICA: (
        "AG AI AR AW BB BL BO BQ BR BS BV BZ CL CO CR CU CW DM DO EC FK GD GF GP GS GT GY HN HT JM KN KY "
        "LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI"
    ),
    EUROPE: (
        "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV "
        "MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA"
    ),
    ASIA: (
        "AE AF AM AZ BD BH BN BT CN CY GE HK ID IL IN IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV "
        "MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE"
    ),
    AFRICA: (
        "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW IO KE KM LR LS LY MA MG ML "
        "MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TF TG TN TZ UG YT ZA ZM ZW"
    ),
    OCEANIA: "AS AU CC CK CX FJ FM GU HM KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
}

REGION_OF: dict[str, str] = {code: region for region, codes in _MEMBERS.items() for code in codes.split()}


def region_of(country: str) -> str:
    return REGION_OF.get(country, OTHER)
