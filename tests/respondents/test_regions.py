from django_countries.data import COUNTRIES

from respondents.regions import _MEMBERS, OTHER, REGION_OF, region_of


def test_every_country_but_antarctica_has_exactly_one_region():
    listed = [code for codes in _MEMBERS.values() for code in codes.split()]
    assert len(listed) == len(set(listed)), "a country is listed twice"
    assert set(COUNTRIES) - set(REGION_OF) == {"AQ"}
    assert set(REGION_OF) <= set(COUNTRIES)
    assert region_of("AQ") == region_of("") == OTHER


def test_the_studys_countries_fall_where_expected():
    assert [region_of(code) for code in ("CA", "US", "MX", "BR", "GB", "TR", "AU", "NZ", "KE")] == [
        "North America",
        "North America",
        "Latin America and the Caribbean",
        "Latin America and the Caribbean",
        "Europe",
        "Asia",
        "Oceania",
        "Oceania",
        "Africa",
    ]
