import pytest
from werkzeug.datastructures import MultiDict

from mapapp.errors import BadRequest
from mapapp.filters import BBox, Filters


def test_repeated_and_comma_separated_values_are_the_same():
    a = Filters.from_args(MultiDict([("country", "fr"), ("country", "BE")]))
    b = Filters.from_args({"country": "FR, be"})
    assert a == b and a.country == ("FR", "BE")


def test_everything_parses_and_round_trips():
    args = {"country": "IT", "theme": "am40", "need": "funding", "offer": "premises,training",
            "relation": "visited", "project": "demo-study-visits", "visit": "lyon-seminar-2025",
            "q": "  vélo   Lyon ", "bbox": "4.7,45.7,4.9,45.8", "lang": "fr"}
    f = Filters.from_args(args)
    assert f.theme == ("AM40",) and f.offer == ("premises", "training") and f.q == "vélo Lyon"
    assert f.bbox == BBox(4.7, 45.7, 4.9, 45.8)
    assert Filters.from_args(f.to_args()) == f
    assert Filters().is_empty and not f.is_empty


@pytest.mark.parametrize("args, parameter", [
    ({"country": "France"}, "country"),
    ({"country": "ZZ"}, "country"),
    ({"theme": "Education"}, "theme"),
    ({"offer": "cash"}, "offer"),
    ({"relation": "friend"}, "relation"),
    ({"visit": "../etc"}, "visit"),
    ({"q": "x" * 201}, "q"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "0,91,1,92"}, "bbox"),
    ({"bbox": "0,50,1,40"}, "bbox"),
    ({"bbox": "nan,1,2,3"}, "bbox"),
])
def test_bad_values_name_their_parameter(args, parameter):
    with pytest.raises(BadRequest) as info:
        Filters.from_args(args)
    assert info.value.parameter == parameter
    assert info.value.status == 400
    assert info.value.message.startswith(parameter + ":")


def test_unknown_theme_message_lists_the_valid_codes():
    with pytest.raises(BadRequest, match="AM10, AM20"):
        Filters.from_args({"theme": "AM999"})
